import assert from 'node:assert/strict';
import { testCluster } from '../support/cluster.js';
import { useNamespace } from '../support/namespace.js';
import { ANNOTATION_OWNER, Applier, desiredObject, entryOf, type Owner } from '../../apply/index.js';
import { compactForCache, isConflict, type KubeObject } from '../../kube/index.js';

describe('apply: Applier against the real API server', () => {
  const ns = useNamespace();
  const owner = (): Owner => ({
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'ApplicationConfiguration',
    name: 'app',
    namespace: ns.name,
  });
  const configMap = (name: string, data: Record<string, string>, labels?: Record<string, string>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: ns.name, ...(labels ? { labels } : {}) },
    data,
  });
  const applier = () => new Applier({ kube: testCluster().kube, fieldManager: 'trellis-apply-test' });

  it('reports created, then unchanged, then configured, and marks objects with their owner', async () => {
    const a = applier();
    assert.deepEqual(
      (await a.apply([configMap('c', { x: '1' })], owner())).map((r) => r.action),
      ['created'],
    );
    assert.deepEqual(
      (await a.apply([configMap('c', { x: '1' })], owner())).map((r) => r.action),
      ['unchanged'],
    );
    const [configured] = await a.apply([configMap('c', { x: '2' })], owner());
    assert.equal(configured!.action, 'configured');
    assert.equal(
      configured!.object.metadata.annotations?.[ANNOTATION_OWNER],
      `ApplicationConfiguration.core.oam.dev/${ns.name}/app`,
    );
  });

  it('a create from a cache that missed an object made meanwhile fails: read again, refused, left as it was', async () => {
    const { kube } = testCluster();
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'c', namespace: ns.name };
    const handMade = await kube.withFieldManager('kubectl-create').create(configMap('c', { theirs: '1' }));
    const [r] = await applier().apply([configMap('c', { mine: '1' })], owner(), { live: () => undefined });
    assert.equal(r!.action, 'refused');
    assert.match(r!.refusal!.message, /TRL_OWNERSHIP_CONFLICT.*made by hand \(field manager "kubectl-create"\)/);
    const live = await kube.get(ref);
    assert.equal(live.metadata.resourceVersion, handMade.metadata.resourceVersion, 'not written at all');
    assert.deepEqual(live.data, { theirs: '1' });
  });

  it("the API server's answers a create relies on: an apply carrying a version no object has creates an absent object, and is refused (409) on an existing one", async () => {
    // apply/write.ts ObjectWriter.create: should Kubernetes change either answer, this test says so.
    const { kube } = testCluster();
    const guarded = (data: Record<string, string>) => ({
      ...configMap('c', data),
      metadata: { name: 'c', namespace: ns.name, resourceVersion: '9223372036854775807' },
    });
    const created = await kube.apply(guarded({ v: '1' }), { fieldManager: 'trellis-apply-test' });
    assert.deepEqual(created.data, { v: '1' });
    await assert.rejects(kube.apply(guarded({ v: '2' }), { fieldManager: 'trellis-apply-test' }), (err: unknown) =>
      isConflict(err),
    );
    const live = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'c', namespace: ns.name });
    assert.equal(live.metadata.resourceVersion, created.metadata.resourceVersion);
  });

  it('removes a field the template no longer sets, and keeps fields other managers own', async () => {
    const { kube } = testCluster();
    const a = applier();
    await a.apply([configMap('c', { keep: '1', drop: '2' }, { mine: 'yes' })], owner());
    await kube.patch(
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'c', namespace: ns.name },
      { metadata: { labels: { theirs: 'yes' }, finalizers: ['example.com/keep'] } },
    );
    await a.apply([configMap('c', { keep: '1' }, { mine: 'yes' })], owner());
    const live = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'c', namespace: ns.name });
    assert.deepEqual(live.data, { keep: '1' });
    assert.deepEqual(live.metadata.labels, { mine: 'yes', theirs: 'yes' });
    assert.deepEqual(live.metadata.finalizers, ['example.com/keep']);
    await kube.patch(
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'c', namespace: ns.name },
      { metadata: { finalizers: null } },
    );
  });

  describe("with live objects from a compacted cache (no managedFields field sets, as the controllers' informers keep them)", () => {
    const ref = () => ({ apiVersion: 'v1', kind: 'ConfigMap', name: 'c', namespace: ns.name });
    const managers = (o: KubeObject) =>
      ((o.metadata.managedFields ?? []) as { manager?: string; operation?: string }[])
        .filter((e) => e.manager === 'trellis-apply-test')
        .map((e) => e.operation);

    it('removes a field the template no longer sets on the first update of an object an earlier Trellis POSTed', async () => {
      const { kube } = testCluster();
      const a = applier();
      // Trellis before server-side-applied creates: a POST, its fields in an Update entry.
      await kube
        .withFieldManager('trellis-apply-test')
        .create(desiredObject(configMap('c', { keep: '1', drop: '2' }), owner(), true));
      const cached = compactForCache(await kube.get(ref()));
      assert.deepEqual(managers(cached), ['Update']);
      const [r] = await a.apply([configMap('c', { keep: '1' })], owner(), { live: () => cached });
      assert.equal(r!.action, 'configured');
      const live = await kube.get(ref());
      assert.deepEqual(live.data, { keep: '1' });
      assert.deepEqual(managers(live), ['Apply'], "the create's Update entry became the Apply entry");
      const [again] = await a.apply([configMap('c', { keep: '2' })], owner(), { live: () => compactForCache(live) });
      assert.equal(again!.action, 'configured');
      assert.deepEqual((await kube.get(ref())).data, { keep: '2' });
    });

    it('creates with server-side apply: the first update is one write request, and removes a field it stops setting', async () => {
      const { kube } = testCluster();
      const a = applier();
      const writes: string[] = [];
      const stop = kube.connection.observe((r) => {
        if (r.method !== 'GET' && r.path.includes(`/namespaces/${ns.name}/configmaps`)) writes.push(r.method);
      });
      try {
        const [created] = await a.apply([configMap('c', { keep: '1', drop: '2' })], owner(), { live: () => undefined });
        assert.equal(created!.action, 'created');
        assert.deepEqual(managers(created!.object), ['Apply'], 'no Update entry to hand over');
        assert.deepEqual(writes, ['PATCH'], 'the create: one request');
        const cached = compactForCache(created!.object);
        const [r] = await a.apply([configMap('c', { keep: '1' })], owner(), { live: () => cached });
        assert.equal(r!.action, 'configured');
        assert.deepEqual(writes, ['PATCH', 'PATCH'], 'the first update: one request');
      } finally {
        stop();
      }
      const live = await kube.get(ref());
      assert.deepEqual(live.data, { keep: '1' });
      assert.deepEqual(managers(live), ['Apply']);
    });

    it('merges an Update entry into an existing Apply entry by reading the field sets, and refuses a stale copy', async () => {
      const { kube } = testCluster();
      const a = applier();
      await a.apply([configMap('c', { keep: '1' })], owner());
      await a.apply([configMap('c', { keep: '1', drop: '2' })], owner());
      // The same field manager writing without apply: an Update entry beside its Apply entry.
      await kube.withFieldManager('trellis-apply-test').patch(ref(), { data: { extra: '3' } });
      const both = await kube.get(ref());
      assert.deepEqual(managers(both).sort(), ['Apply', 'Update']);
      const stale = compactForCache(both);
      await kube.patch(ref(), { metadata: { labels: { theirs: 'yes' } } });
      const [r] = await a.apply([configMap('c', { keep: '1' })], owner(), { live: () => stale });
      assert.equal(r!.action, 'configured', 'the stale copy was read again, judged again and written');
      const live = await kube.get(ref());
      assert.deepEqual(live.data, { keep: '1' }, 'fields of both entries it no longer sets are removed');
      assert.deepEqual(managers(live), ['Apply']);
      assert.equal(live.metadata.labels?.theirs, 'yes');
    });
  });

  it('prunes only what this owner applied and still carries its mark', async () => {
    const { kube } = testCluster();
    const a = applier();
    const applied = await a.apply([configMap('one', {}), configMap('two', {}), configMap('three', {})], owner());
    // 'two' was handed over to someone else (mark removed); 'stranger' was never Trellis'.
    await kube.patch(
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'two', namespace: ns.name },
      { metadata: { annotations: { [ANNOTATION_OWNER]: null } } },
    );
    await kube.apply(configMap('stranger', {}));
    const previous = [
      ...applied.map((r) => r.ref),
      entryOf(configMap('stranger', {})),
      entryOf(configMap('missing', {})),
    ];
    const pruned = await a.prune(previous, [entryOf(configMap('three', {}))], owner());
    assert.deepEqual(pruned.map((p) => `${p.ref.name}:${p.action}`).sort(), [
      'missing:gone',
      'one:deleted',
      'stranger:skipped',
      'two:skipped',
    ]);
    const left = (await kube.list('v1', 'ConfigMap', { namespace: ns.name })).items
      .map((o) => o.metadata.name)
      .filter((n) => n !== 'kube-root-ca.crt')
      .sort();
    assert.deepEqual(left, ['stranger', 'three', 'two']);
  });

  it('plans create, update, unchanged and prune without changing anything', async () => {
    const { kube } = testCluster();
    const a = applier();
    const applied = await a.apply(
      [configMap('same', { v: '1' }), configMap('changed', { v: '1' }), configMap('gone', {})],
      owner(),
    );
    const plan = await a.plan(
      [configMap('same', { v: '1' }), configMap('changed', { v: '2' }), configMap('new', { v: '1' })],
      applied.map((r) => r.ref),
      owner(),
    );
    assert.deepEqual(
      plan.map((p) => `${p.ref.name}:${p.action}`),
      ['same:unchanged', 'changed:update', 'new:create', 'gone:prune'],
    );
    assert.deepEqual(plan[1]!.changes, [{ path: 'data.v', before: '1', after: '2' }]);
    assert.equal(
      await kube.getOrNull({ apiVersion: 'v1', kind: 'ConfigMap', name: 'new', namespace: ns.name }),
      undefined,
    );
    assert.deepEqual(
      (await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'changed', namespace: ns.name })).data,
      { v: '1' },
    );
  });

  it('reports created, unchanged and configured for a large same-kind group read with one list, 8 at a time', async () => {
    const a = new Applier({ kube: testCluster().kube, fieldManager: 'trellis-apply-test', concurrency: 8 });
    const many = (changed?: number) =>
      Array.from({ length: 20 }, (_, i) => configMap(`m${i}`, { v: i === changed ? 'new' : 'old' }));
    assert.deepEqual(new Set((await a.apply(many(), owner())).map((r) => r.action)), new Set(['created']));
    assert.deepEqual(new Set((await a.apply(many(), owner())).map((r) => r.action)), new Set(['unchanged']));
    const again = await a.apply(many(7), owner());
    assert.deepEqual(
      again.filter((r) => r.action !== 'unchanged').map((r) => `${r.ref.name}:${r.action}`),
      ['m7:configured'],
    );
    assert.deepEqual(
      again.map((r) => r.ref.name),
      many().map((o) => o.metadata.name),
      'results keep the input order',
    );
  });

  it('tells each result as its write is answered, before the call resolves and before later ranks are written', async () => {
    // The AppConfig controller records its own writes there, before their watch events can be handled.
    const { kube } = testCluster();
    const order: string[] = [];
    const off = kube.connection.fence(({ method, path }) => {
      // A fence judges each write twice (when sent, and when it gets its socket): recorded once.
      const write = `write ${path.split('/').at(-2)}`;
      if (method !== 'GET' && path.includes(`/namespaces/${ns.name}/`) && order.at(-1) !== write) order.push(write);
    });
    const told: string[] = [];
    try {
      const service: KubeObject = {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 's', namespace: ns.name },
        spec: { ports: [{ port: 80 }] },
      };
      const results = await applier().apply([service, configMap('c', { x: '1' })], owner(), {
        onApplied: (r) => {
          order.push(`told ${r.ref.kind}`);
          told.push(`${r.ref.kind}:${r.action}`);
        },
      });
      assert.deepEqual(
        told.sort(),
        results.map((r) => `${r.ref.kind}:${r.action}`).sort(),
        'each result told once, as returned',
      );
    } finally {
      off();
    }
    assert.deepEqual(order, ['write configmaps', 'told ConfigMap', 'write services', 'told Service']);
  });

  it("with verifyCached, judges what a lagging cache says to write on the API server's copy: written already, nothing is sent, no conflict", async () => {
    // A shard just handed over: the new holder's cache has not seen the previous holder's last write yet.
    const { kube } = testCluster();
    const a = applier();
    const [first] = await a.apply([configMap('c', { x: '1' })], owner());
    const stale = compactForCache(first!.object);
    await a.apply([configMap('c', { x: '2' })], owner()); // the previous holder's last write
    const sent: string[] = [];
    const off = kube.connection.observe(({ method, path, status }) => {
      if (path.includes(`/namespaces/${ns.name}/configmaps`)) sent.push(`${method} ${status}`);
    });
    try {
      const [verified] = await a.apply([configMap('c', { x: '2' })], owner(), {
        live: () => stale,
        verifyCached: true,
      });
      assert.equal(verified!.action, 'unchanged');
      assert.deepEqual(sent, ['GET 200'], 'read, found as desired, not written');
      sent.length = 0;
      const [unverified] = await a.apply([configMap('c', { x: '2' })], owner(), { live: () => stale });
      assert.equal(unverified!.action, 'unchanged');
      assert.deepEqual(sent, ['PATCH 409', 'GET 200'], 'without it: a write conditional on the stale copy, refused');
      sent.length = 0;
      const [changed] = await a.apply([configMap('c', { x: '3' })], owner(), { live: () => stale, verifyCached: true });
      assert.equal(changed!.action, 'configured');
      assert.deepEqual(sent, ['GET 200', 'PATCH 200'], 'a real change: read, then written on the fresh copy');
    } finally {
      off();
    }
  });

  it('names the rejected object and the server reason when apply fails', async () => {
    const bad: KubeObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's', namespace: ns.name },
      spec: { ports: [{ port: 99999 }] },
    };
    await assert.rejects(
      applier().apply([bad], owner()),
      /\[TRL_APPLY_REJECTED\] Service\/.*\/s: .*spec\.ports\[0\]\.port: Invalid value: 99999/,
    );
  });
});
