import assert from 'node:assert/strict';
import { testCluster } from '../support/cluster.js';
import { eventually, useNamespace } from '../support/namespace.js';
import type { LeaseObject } from '../../kube/index.js';
import { silentLogger } from '../../lib/log.js';
import { Manager, shardOf } from '../../runtime/index.js';

describe('runtime: sharded managers (Manager sharding)', () => {
  const ns = useNamespace();
  const managers: Manager[] = [];
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.stop()));
  });

  /** A replica reconciling the test namespace's ConfigMaps of its shards, recording who reconciled which. */
  function replica(identity: string, shards: number, log: { key: string; by: string }[]) {
    const m = new Manager({
      kube: testCluster().kube,
      logger: silentLogger,
      identity,
      gracefulShutdownMs: 2000,
      sharding: { namespace: ns.name, name: 'test', shards, leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 300 },
    });
    m.controller({ name: 'count', for: { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns.name, labelSelector: 'test=shards' }, reconciler: { reconcile: async (_c, req) => void log.push({ key: `${req.namespace}/${req.name}`, by: identity }) } });
    managers.push(m);
    return m;
  }
  const configMaps = async (n: number) => {
    for (let i = 0; i < n; i++) await testCluster().kube.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}`, namespace: ns.name, labels: { test: 'shards' } } });
    return Array.from({ length: n }, (_, i) => `${ns.name}/c${i}`);
  };

  it('splits the keys between two replicas, each key reconciled by its shard holder only; a graceful stop hands its shards over at once', async () => {
    const log: { key: string; by: string }[] = [];
    const a = replica('replica-a', 4, log);
    const b = replica('replica-b', 4, log);
    await Promise.all([a.start(), b.start()]);
    await eventually(async () => a.shards!.ownedShards().length === 2 && b.shards!.ownedShards().length === 2, { what: '2 shards each' });
    const owner = (key: string) => (a.shards!.ownedShards().includes(shardOf(key, 4)) ? 'replica-a' : 'replica-b');
    const keys = await configMaps(20);
    await eventually(async () => keys.every((k) => log.some((l) => l.key === k)), { what: 'every ConfigMap reconciled' });
    for (const k of keys) assert.deepEqual([...new Set(log.filter((l) => l.key === k).map((l) => l.by))], [owner(k)], `${k} reconciled by its shard's holder only`);

    const aKeys = keys.filter((k) => owner(k) === 'replica-a');
    const aShards = a.shards!.ownedShards();
    log.length = 0;
    await a.stop();
    // Released on stop (not left to expire): free, or already replica-b's.
    for (const shard of aShards) {
      const lease = await testCluster().kube.get<LeaseObject>({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: ns.name, name: `test-shard-${shard}` });
      assert.ok(['', 'replica-b'].includes(lease.spec?.holderIdentity ?? ''), `shard ${shard} released (holder "${lease.spec?.holderIdentity}")`);
    }
    await eventually(async () => b.shards!.ownedShards().length === 4, { what: 'replica-b holds all 4 shards' });
    await eventually(async () => aKeys.every((k) => log.some((l) => l.key === k && l.by === 'replica-b')), { what: "replica-a's keys reconciled again by replica-b" });
  });

  it('a replica started with another shard count waits until the old group is gone, then takes every shard', async () => {
    const log: { key: string; by: string }[] = [];
    const a = replica('old-4', 4, log);
    await a.start();
    await eventually(async () => a.shards!.ownedShards().length === 4, { what: 'old-4 holds all 4 shards' });
    const c = replica('new-6', 6, log);
    await c.start();
    // While old-4 keeps renewing (its config Lease seen renewed several times), new-6 holds nothing.
    const config = () => testCluster().kube.get<LeaseObject>({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: ns.name, name: 'test-config' });
    const renewals = new Set<string>();
    await eventually(async () => (renewals.add((await config()).spec?.renewTime ?? ''), renewals.size >= 5), { what: 'the config Lease renewed by old-4' });
    assert.deepEqual(c.shards!.ownedShards(), [], 'new-6 holds no shard while old-4 runs');
    assert.equal((await config()).spec?.holderIdentity, 'shards=4');

    await a.stop();
    await eventually(async () => c.shards!.ownedShards().length === 6, { what: 'new-6 holds all 6 shards once old-4 is gone' });
    assert.equal((await config()).spec?.holderIdentity, 'shards=6');
  });
});
