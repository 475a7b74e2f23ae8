import assert from 'node:assert/strict';
import { testCluster } from '../support/cluster.js';
import { eventually, useNamespace } from '../support/namespace.js';
import type { KubeObject } from '../../kube/index.js';
import { silentLogger } from '../../lib/log.js';
import { EventRecorder, Manager, type Reconciler } from '../../runtime/index.js';

const get = async (port: number, path: string) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, text: await res.text() };
};

describe('runtime: Manager against the real API server', () => {
  const ns = useNamespace();
  let manager: Manager | undefined;
  afterEach(async () => {
    await manager?.stop();
    manager = undefined;
  });

  it('reconciles a kind, recreates what it owns when that is deleted, and serves /healthz, /readyz, /metrics', async () => {
    const { kube } = testCluster();
    manager = new Manager({ kube, logger: silentLogger, concurrency: 2, server: { host: '127.0.0.1', port: 0 } });
    const sources = manager.informer<KubeObject>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: ns.name,
      labelSelector: 'role=source',
    });
    // Mirror every `role=source` ConfigMap into a Secret it controls.
    const reconciler: Reconciler = {
      async reconcile(_ctx, req) {
        const source = sources.get(req.name, req.namespace);
        if (!source) return {};
        await kube.apply({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: {
            name: `${req.name}-mirror`,
            namespace: req.namespace,
            labels: { role: 'mirror' },
            ownerReferences: [
              { apiVersion: 'v1', kind: 'ConfigMap', name: req.name, uid: source.metadata.uid!, controller: true },
            ],
          },
          stringData: source.data as Record<string, string>,
        });
        return {};
      },
    };
    manager.controller({
      name: 'mirror',
      for: { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns.name, labelSelector: 'role=source' },
      owns: [{ apiVersion: 'v1', kind: 'Secret', namespace: ns.name, labelSelector: 'role=mirror' }],
      reconciler,
    });
    await kube.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'a', namespace: ns.name, labels: { role: 'source' } },
      data: { k: 'v1' },
    });
    await manager.start();
    const mirror = { apiVersion: 'v1', kind: 'Secret', name: 'a-mirror', namespace: ns.name };
    await eventually(() => kube.getOrNull(mirror), { what: 'the mirror Secret' });

    await kube.delete(mirror);
    const recreated = await eventually(async () => (await kube.getOrNull(mirror)) ?? false, {
      what: 'the deleted mirror recreated (owned watch, not a poll)',
    });
    assert.equal(Buffer.from((recreated.data as { k: string }).k, 'base64').toString(), 'v1');

    await kube.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'a', namespace: ns.name, labels: { role: 'source' } },
      data: { k: 'v2' },
    });
    await eventually(
      async () => Buffer.from(((await kube.get(mirror)).data as { k: string }).k, 'base64').toString() === 'v2',
      { what: 'the change mirrored' },
    );

    assert.deepEqual(await get(manager.port, '/healthz'), { status: 200, text: 'ok\n' });
    assert.deepEqual(await get(manager.port, '/readyz'), { status: 200, text: 'ok\n' });
    const metrics = (await get(manager.port, '/metrics')).text;
    assert.match(metrics, /controller_runtime_reconcile_total\{controller="mirror",result="success"\} [3-9]/);
    assert.match(metrics, /controller_runtime_reconcile_time_seconds_count\{controller="mirror"\} \d+/);
    assert.match(metrics, /workqueue_depth\{name="mirror",controller="mirror"\} 0/);
    assert.match(metrics, /rest_client_requests_total\{code="200",method="PATCH",host="127\.0\.0\.1:\d+"\} \d+/);
    assert.match(metrics, /process_resident_memory_bytes \d+/);
    assert.equal((await get(manager.port, '/nothing')).status, 404);
  });

  it('reports not ready, naming the kind, while an informer cannot list', async () => {
    const { kube } = testCluster();
    manager = new Manager({
      kube,
      logger: silentLogger,
      server: { host: '127.0.0.1', port: 0 },
      cacheSyncTimeoutMs: 1500,
    });
    manager.controller({
      name: 'nothing',
      for: { apiVersion: 'example.invalid/v1', kind: 'Missing' },
      reconciler: { reconcile: async () => ({}) },
    });
    const starting = manager.start();
    await eventually(async () => manager!.port > 0, { what: 'the health server' });
    const ready = await get(manager.port, '/readyz?verbose');
    assert.equal(ready.status, 503);
    assert.match(ready.text, /\[-\] informers failed: Missing/);
    await assert.rejects(
      starting,
      (err: Error) => /TRL_CONTROLLER_CACHE_SYNC/.test(err.message) && /Missing/.test(err.message),
    );
  });
});

describe('runtime: EventRecorder against the real API server', () => {
  const ns = useNamespace();

  it('creates an events.k8s.io/v1 Event and aggregates repeats into its series', async () => {
    const { kube } = testCluster();
    const regarding = await kube.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'subject', namespace: ns.name },
      data: {},
    });
    const recorder = new EventRecorder({ kube, controller: 'trellis.dev/test', instance: 'test-1' });
    for (let i = 0; i < 3; i++)
      recorder.event(regarding, 'Warning', 'RenderFailed', 'Render', 'trait "scaler": replicas: expected int');
    recorder.event(regarding, 'Normal', 'Synced', 'Apply', 'applied 2 objects');
    await recorder.flush();
    const events = (await kube.list('events.k8s.io/v1', 'Event', { namespace: ns.name })).items as (KubeObject & {
      reason: string;
      note: string;
      series?: { count: number };
      regarding: { uid: string };
      reportingController: string;
    })[];
    const byReason = Object.fromEntries(events.map((e) => [e.reason, e]));
    assert.equal(events.length, 2);
    assert.equal(byReason.RenderFailed!.series?.count, 3);
    assert.equal(byReason.RenderFailed!.note, 'trait "scaler": replicas: expected int');
    assert.equal(byReason.RenderFailed!.regarding.uid, regarding.metadata.uid);
    assert.equal(byReason.RenderFailed!.reportingController, 'trellis.dev/test');
    assert.equal(byReason.Synced!.series, undefined);
    // What `kubectl get events` shows a person: the core/v1 view of the same Event.
    const core = (await kube.list('v1', 'Event', { namespace: ns.name })).items.find(
      (e) => e.reason === 'RenderFailed',
    ) as KubeObject & { series?: { count: number }; involvedObject: { name: string } };
    assert.equal(core.involvedObject.name, 'subject');
    assert.equal(core.series?.count, 3);
  });
});

describe('runtime: leader election on a Lease', () => {
  const ns = useNamespace();
  const managers: Manager[] = [];
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.stop()));
  });

  /** A replica counting its reconciles of ConfigMaps in the test namespace. */
  function replica(identity: string, releaseOnStop: boolean, leaseDurationMs = 3000) {
    const { kube } = testCluster();
    const reconciled: string[] = [];
    const m = new Manager({
      kube,
      logger: silentLogger,
      identity,
      gracefulShutdownMs: 1000,
      leaderElection: {
        namespace: ns.name,
        name: 'test-leader',
        leaseDurationMs,
        renewDeadlineMs: leaseDurationMs - 1000,
        retryPeriodMs: 300,
        releaseOnStop,
      },
    });
    m.controller({
      name: 'count',
      for: { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns.name },
      reconciler: { reconcile: async (_c, req) => void reconciled.push(req.name) },
    });
    managers.push(m);
    return { m, reconciled };
  }

  const lease = async () =>
    (
      await testCluster().kube.get({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        name: 'test-leader',
        namespace: ns.name,
      })
    ).spec as {
      holderIdentity: string;
      leaseTransitions: number;
      acquireTime: string;
      renewTime: string;
      leaseDurationSeconds: number;
    };

  it('lets only one replica work; when the leader dies the other takes over after the lease expires', async () => {
    const { kube } = testCluster();
    const a = replica('replica-a', false);
    await a.m.start();
    await a.m.waitForLeadership();
    const b = replica('replica-b', false);
    await b.m.start();
    await kube.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'work-1', namespace: ns.name },
      data: {},
    });
    await eventually(async () => a.reconciled.includes('work-1'), { what: 'the leader reconciles' });
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(b.m.isLeader, false);
    assert.deepEqual(b.reconciled, [], 'the standby did no work');
    assert.equal((await lease()).holderIdentity, 'replica-a');

    // The leader dies without releasing its lease (as on SIGKILL: it stops renewing).
    const before = await lease();
    await a.m.stop();
    await b.m.waitForLeadership();
    const after = await lease();
    assert.equal(after.holderIdentity, 'replica-b');
    assert.equal(after.leaseTransitions, before.leaseTransitions + 1);
    const handoverMs = Date.parse(after.acquireTime) - Date.parse(before.renewTime);
    assert.ok(
      handoverMs >= 3000,
      `the standby waited for the lease to expire (took over ${handoverMs} ms after the last renewal)`,
    );
    await kube.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'work-2', namespace: ns.name },
      data: {},
    });
    await eventually(async () => b.reconciled.includes('work-2'), { what: 'the new leader reconciles' });
    assert.ok(!a.reconciled.includes('work-2'));
  });

  it('hands over at once when the leader stops gracefully (releases the lease)', async () => {
    // A long lease: without the release, the standby would wait 15 s.
    const a = replica('replica-a', true, 15_000);
    await a.m.start();
    await a.m.waitForLeadership();
    const b = replica('replica-b', true, 15_000);
    await b.m.start();
    const held = await lease();
    assert.equal(held.holderIdentity, 'replica-a');
    await a.m.stop();
    // Released (no holder) — or taken already: the standby may try again before this read.
    const released = await lease();
    assert.ok(
      ['', 'replica-b'].includes(released.holderIdentity),
      `released or handed over, not still held (holder "${released.holderIdentity}")`,
    );
    await b.m.waitForLeadership();
    const after = await lease();
    assert.equal(after.holderIdentity, 'replica-b');
    // Without the release the standby would wait the lease duration after the leader's last renewal.
    assert.ok(
      Date.parse(after.acquireTime) - Date.parse(held.renewTime) < 15_000,
      `no wait for the lease duration (taken ${Date.parse(after.acquireTime) - Date.parse(held.renewTime)} ms after the last renewal read)`,
    );
  });
});
