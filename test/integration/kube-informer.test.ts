import assert from 'node:assert/strict';
import { testCluster } from '../support/cluster.js';
import { eventually, useNamespace } from '../support/namespace.js';
import {
  compactForCache,
  hasFieldSets,
  Informer,
  isGone,
  type KubeApiError,
  type KubeObject,
} from '../../kube/index.js';

describe('kube: Informer against the real API server', () => {
  const ns = useNamespace();
  let informer: Informer | undefined;
  afterEach(async () => {
    await informer?.stop();
    informer = undefined;
  });

  const configMap = (name: string, value: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: ns.name },
    data: { value },
  });

  it('lists, then delivers add, update and delete events in order', async () => {
    const { kube } = testCluster();
    await kube.apply(configMap('before', '1'));
    const events: string[] = [];
    informer = new Informer(kube, { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns.name, resyncMs: 0 });
    informer.on({
      add: (o) => events.push(`add ${o.metadata.name}`),
      update: (o) => events.push(`update ${o.metadata.name} ${(o.data as { value: string }).value}`),
      delete: (o) => events.push(`delete ${o.metadata.name}`),
    });
    await informer.start();
    assert.ok(informer.get('before', ns.name), 'the initial list is in the cache once start() resolves');
    await kube.apply(configMap('after', '1'));
    await kube.apply(configMap('after', '2'));
    await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: 'after', namespace: ns.name });
    await eventually(async () => events.includes('delete after'), { what: 'delete event' });
    const mine = events.filter((e) => !e.includes('kube-root-ca'));
    assert.deepEqual(mine, ['add before', 'add after', 'update after 2', 'delete after']);
  });

  it('keeps and hands out objects as its transform makes them, from the list and from the watch', async () => {
    const { kube } = testCluster();
    await kube.apply(configMap('listed', '1'));
    const seen: KubeObject[] = [];
    const cache = new Informer<KubeObject>(kube, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: ns.name,
      resyncMs: 0,
      transform: (o) => compactForCache(o),
    });
    informer = cache;
    cache.on({ add: (o) => seen.push(o), update: (o) => seen.push(o) });
    await cache.start();
    await kube.apply(configMap('watched', '1'));
    await eventually(async () => !!cache.get('watched', ns.name), { what: 'the watched object cached' });
    for (const name of ['listed', 'watched']) {
      const cached: KubeObject = cache.get(name, ns.name)!;
      assert.equal(hasFieldSets(cached), false, `${name}: no field sets in the cache`);
      assert.ok(cached.metadata.managedFields?.length, `${name}: who wrote it is kept`);
      assert.equal((cached.data as { value: string }).value, '1');
      assert.ok(seen.includes(cached), `${name}: handlers got the cached (transformed) object`);
      assert.equal(
        hasFieldSets(await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name, namespace: ns.name })),
        true,
      );
    }
  });

  it('finds the objects a controller owns by its uid, as ownership changes and objects go', async () => {
    const { kube } = testCluster();
    const owner = async (name: string) => (await kube.apply(configMap(name, '0'))).metadata.uid!;
    const [a, b] = [await owner('owner-a'), await owner('owner-b')];
    const ref = (uid: string, controller: boolean) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: uid === a ? 'owner-a' : 'owner-b',
      uid,
      controller,
    });
    const owned = (name: string, ...refs: ReturnType<typeof ref>[]): KubeObject => ({
      ...configMap(name, '1'),
      metadata: { name, namespace: ns.name, ownerReferences: refs },
    });
    await kube.apply(owned('listed', ref(a, true)));
    informer = new Informer(kube, { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns.name, resyncMs: 0 });
    await informer.start();
    const names = (uid: string) =>
      informer!
        .controlledBy(uid)
        .map((o) => o.metadata.name)
        .sort();
    assert.deepEqual(names(a), ['listed'], 'indexed from the first list');
    await kube.apply(owned('watched', ref(a, true)));
    await kube.apply(owned('not-controlled', ref(a, false)));
    await eventually(async () => !!informer!.get('not-controlled', ns.name), { what: 'both in the cache' });
    assert.deepEqual(names(a), ['listed', 'watched'], 'a plain owner reference does not make a controller');
    await kube.apply(owned('watched', ref(b, true)));
    await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: 'listed', namespace: ns.name });
    await eventually(async () => names(a).length === 0, { what: "owner-a's objects gone from the index" });
    assert.deepEqual(names(b), ['watched'], 'moved to its new controller');
  });

  it('resumes from its resourceVersion when the server ends a watch, without re-listing', async () => {
    const { kube } = testCluster();
    informer = new Informer(kube, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: ns.name,
      resyncMs: 0,
      watchTimeoutSeconds: 1,
    });
    const added: string[] = [];
    informer.on({ add: (o) => added.push(o.metadata.name!) });
    await informer.start();
    await new Promise((r) => setTimeout(r, 2500)); // at least two server-side watch timeouts
    await kube.apply(configMap('late', '1'));
    await eventually(async () => added.includes('late'), { what: 'add after watch restarts' });
    assert.equal(informer.relists, 1);
  });

  it('stops while its first list is still in flight, without going on to watch', async function () {
    // The dashboard starts its optional informers without awaiting them; stopped while their list was
    // out, they went on to a watch nobody would end (an hour here, 300 s by default) and stop() waited.
    this.timeout(60_000);
    const { kube } = testCluster();
    await kube.apply(configMap('listed', '1'));
    const stopped = new Informer(kube, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: ns.name,
      resyncMs: 0,
      watchTimeoutSeconds: 3600,
    });
    const first = stopped.start();
    await stopped.stop();
    assert.equal(stopped.synced, false, 'the list was abandoned, not finished');
    // A stopped informer never fills its cache: start() stays pending rather than claiming a sync.
    const settled = await Promise.race([first.then(() => 'synced'), Promise.resolve('pending')]);
    assert.equal(settled, 'pending');
  });

  it('keeps delivering events across a restart of the API server', async function () {
    const { kube, controlPlane } = testCluster();
    informer = new Informer(kube, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: ns.name,
      resyncMs: 0,
      backoff: { initialMs: 100, maxMs: 1000 },
    });
    const added: string[] = [];
    informer.on({ add: (o) => added.push(o.metadata.name!) });
    await informer.start();
    await controlPlane.restartApiServer();
    await kube.apply(configMap('after-restart', '1'));
    await eventually(async () => added.includes('after-restart'), {
      what: 'add after API server restart',
      timeoutMs: 60_000,
    });
    const listed = (await kube.list('v1', 'ConfigMap', { namespace: ns.name })).items
      .map((o) => o.metadata.name)
      .sort();
    assert.deepEqual(
      informer
        .list()
        .map((o) => o.metadata.name)
        .sort(),
      listed,
    );
  });

  it('reports an expired resourceVersion as 410 Gone (the error the informer re-lists on)', async () => {
    const { kube } = testCluster();
    await assert.rejects(
      kube.watch('v1', 'ConfigMap', { namespace: ns.name, resourceVersion: '1', timeoutSeconds: 5 }, () => {}),
      (err: KubeApiError) => isGone(err) && /too old resource version/.test(err.message),
    );
  });
});
