import assert from 'node:assert/strict';
import { testCluster } from '../support/cluster.js';
import { eventually, useNamespace } from '../support/namespace.js';
import { LeaseLock, microTime, type LeaseObject } from '../../kube/index.js';
import { silentLogger } from '../../lib/log.js';
import {
  ANNOTATION_SHARDS,
  LABEL_SHARD_GROUP,
  LABEL_SHARD_ROLE,
  Manager,
  ShardCoordinator,
  ShardNotHeldError,
  shardedReconcile,
  shardOf,
} from '../../runtime/index.js';

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
      sharding: {
        namespace: ns.name,
        name: 'test',
        shards,
        leaseDurationMs: 3000,
        renewDeadlineMs: 2000,
        retryPeriodMs: 300,
      },
    });
    m.controller({
      name: 'count',
      for: { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns.name, labelSelector: 'test=shards' },
      reconciler: {
        reconcile: async (_c, req) => void log.push({ key: `${req.namespace}/${req.name}`, by: identity }),
      },
    });
    managers.push(m);
    return m;
  }
  const configMaps = async (n: number) => {
    for (let i = 0; i < n; i++)
      await testCluster().kube.apply({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `c${i}`, namespace: ns.name, labels: { test: 'shards' } },
      });
    return Array.from({ length: n }, (_, i) => `${ns.name}/c${i}`);
  };

  it('splits the keys between two replicas, each key reconciled by its shard holder only; a graceful stop hands its shards over at once', async () => {
    const log: { key: string; by: string }[] = [];
    const a = replica('replica-a', 4, log);
    const b = replica('replica-b', 4, log);
    await Promise.all([a.start(), b.start()]);
    await eventually(async () => a.shards!.ownedShards().length === 2 && b.shards!.ownedShards().length === 2, {
      what: '2 shards each',
    });
    const owner = (key: string) => (a.shards!.ownedShards().includes(shardOf(key, 4)) ? 'replica-a' : 'replica-b');
    const keys = await configMaps(20);
    await eventually(async () => keys.every((k) => log.some((l) => l.key === k)), {
      what: 'every ConfigMap reconciled',
    });
    for (const k of keys)
      assert.deepEqual(
        [...new Set(log.filter((l) => l.key === k).map((l) => l.by))],
        [owner(k)],
        `${k} reconciled by its shard's holder only`,
      );

    const aKeys = keys.filter((k) => owner(k) === 'replica-a');
    const aShards = a.shards!.ownedShards();
    log.length = 0;
    await a.stop();
    // Released on stop (not left to expire): free, or already replica-b's.
    for (const shard of aShards) {
      const lease = await testCluster().kube.get<LeaseObject>({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        namespace: ns.name,
        name: `test-shard-${shard}`,
      });
      assert.ok(
        ['', 'replica-b'].includes(lease.spec?.holderIdentity ?? ''),
        `shard ${shard} released (holder "${lease.spec?.holderIdentity}")`,
      );
    }
    await eventually(async () => b.shards!.ownedShards().length === 4, { what: 'replica-b holds all 4 shards' });
    await eventually(async () => aKeys.every((k) => log.some((l) => l.key === k && l.by === 'replica-b')), {
      what: "replica-a's keys reconciled again by replica-b",
    });
  });

  it('refuses the writes of a reconcile still running when its shard is handed over: only the new holder writes its keys', async () => {
    const { kube } = testCluster();
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const entered = new Set<string>();
    const refused = new Set<string>();
    const writer = (identity: string) => {
      const m = new Manager({
        kube,
        logger: silentLogger,
        identity,
        concurrency: 20,
        gracefulShutdownMs: 2000,
        sharding: {
          namespace: ns.name,
          name: 'fence',
          shards: 2,
          leaseDurationMs: 6000,
          renewDeadlineMs: 4000,
          retryPeriodMs: 500,
        },
      });
      m.controller({
        name: 'write',
        for: { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns.name, labelSelector: 'test=shards' },
        reconciler: {
          reconcile: async (_c, req) => {
            entered.add(`${req.namespace}/${req.name}`);
            if (identity === 'fence-a') await gate;
            const annotations = { 'test/written-by': identity };
            await kube
              .apply(
                { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: req.name, namespace: ns.name, annotations } },
                { fieldManager: `w-${identity}` },
              )
              .catch((err: unknown) => {
                if (err instanceof ShardNotHeldError) refused.add(`${req.namespace}/${req.name}`);
                throw err;
              });
          },
        },
      });
      managers.push(m);
      return m;
    };
    const a = writer('fence-a');
    await a.start();
    await eventually(async () => a.shards!.ownedShards().length === 2, { what: 'fence-a holding both shards' });
    const keys = await configMaps(10);
    await eventually(async () => keys.every((k) => entered.has(k)), {
      what: "every key's reconcile waiting on the gate",
    });
    const b = writer('fence-b');
    await b.start();
    // fence-a hands one shard over: it stops handing out its keys, and waits for their reconciles (held at the gate).
    await eventually(async () => a.shards!.ownedShards().length === 1, { what: 'fence-a handing a shard over' });
    const kept = a.shards!.ownedShards()[0]!;
    open();
    await eventually(async () => b.shards!.ownedShards().length === 1, { what: 'fence-b taking the shard' });
    const handed = keys.filter((k) => shardOf(k, 2) !== kept);
    assert.ok(handed.length > 0 && handed.length < keys.length, `both shards have keys: ${handed.join(', ')}`);
    const writers = async (key: string) => {
      const cm = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns.name, name: key.split('/')[1]! });
      return (cm.metadata.managedFields ?? [])
        .map((f) => (f as { manager?: string }).manager)
        .filter((m) => m?.startsWith('w-'));
    };
    await eventually(async () => (await Promise.all(keys.map(writers))).every((w) => w.length === 1), {
      what: 'every ConfigMap written once more',
    });
    for (const k of keys)
      assert.deepEqual(
        await writers(k),
        [handed.includes(k) ? 'w-fence-b' : 'w-fence-a'],
        `${k} written by its holder only`,
      );
    assert.deepEqual([...refused].sort(), [...handed].sort(), "fence-a's writes for the handed-over keys were refused");
  });

  it("runs work for another key (Manager.forKey) only while that key's shard is held, fenced by it, and hands the shard over only once it ended", async () => {
    // The AppConfig controller makes a Component's revision this way: the Component's shard, not the AppConfig's, says who writes it.
    const a = replica('replica-a', 2, []);
    await a.start();
    await eventually(async () => a.shards!.ownedShards().length === 2, { what: 'replica-a holds both shards' });
    const keys = [0, 1].map((shard) => {
      for (let i = 0; ; i++) if (shardOf(`${ns.name}/k${i}`, 2) === shard) return `${ns.name}/k${i}`;
    });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const fenced: string[] = [];
    const running = keys.map((key) =>
      a.forKey(key, async () => {
        fenced.push(`${shardedReconcile()?.key} ${shardedReconcile()?.mayWrite()}`);
        await gate;
        return key;
      }),
    );
    assert.deepEqual(fenced.sort(), keys.map((k) => `${k} true`).sort(), "each judged by its own key's shard");
    const b = replica('replica-b', 2, []);
    await b.start();
    await new Promise((r) => setTimeout(r, 3000)); // more than a lease duration: b wants a shard, a hands it over only after the work
    assert.equal(b.shards!.ownedShards().length, 0, 'no shard handed over while work for its keys runs');
    release();
    assert.deepEqual(await Promise.all(running), keys);
    await eventually(async () => b.shards!.ownedShards().length === 1, { what: 'replica-b holds one shard' });
    const [moved] = b.shards!.ownedShards();
    let ran = false;
    const answer = await a.forKey(keys[moved!]!, async () => (ran = true));
    assert.equal(answer, undefined, "a key of a shard handed over: nothing run, the holder's to do");
    assert.equal(ran, false);
  });

  it('a replica started with another shard count waits until the old group is gone, then takes every shard', async () => {
    const log: { key: string; by: string }[] = [];
    const a = replica('old-4', 4, log);
    await a.start();
    await eventually(async () => a.shards!.ownedShards().length === 4, { what: 'old-4 holds all 4 shards' });
    const c = replica('new-6', 6, log);
    await c.start();
    // While old-4 keeps renewing (its config Lease seen renewed several times), new-6 holds nothing.
    const config = () =>
      testCluster().kube.get<LeaseObject>({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        namespace: ns.name,
        name: 'test-config',
      });
    const renewals = new Set<string>();
    await eventually(async () => (renewals.add((await config()).spec?.renewTime ?? ''), renewals.size >= 5), {
      what: 'the config Lease renewed by old-4',
    });
    assert.deepEqual(c.shards!.ownedShards(), [], 'new-6 holds no shard while old-4 runs');
    assert.equal((await config()).spec?.holderIdentity, 'shards=4');

    await a.stop();
    await eventually(async () => c.shards!.ownedShards().length === 6, {
      what: 'new-6 holds all 6 shards once old-4 is gone',
    });
    assert.equal((await config()).spec?.holderIdentity, 'shards=6');
  });

  it("takes a dead replica's shards over at the first look after a lease duration without renewal, never before (on its own clock)", async () => {
    // A replica that died just after renewing: its member Lease and shards 0 and 1 of 4, never renewed again.
    const { kube } = testCluster();
    const LEASE_MS = 3000;
    const STEP_MS = 300;
    let now = Date.parse('2026-01-01T00:00:00Z');
    const leaseOf = async (name: string, role: string, holder: string) => {
      const meta = {
        labels: { [LABEL_SHARD_GROUP]: 'dead', [LABEL_SHARD_ROLE]: role },
        annotations: { [ANNOTATION_SHARDS]: '4' },
      };
      const t = microTime(new Date(now));
      await new LeaseLock(kube, { namespace: ns.name, name }).create(
        {
          holderIdentity: holder,
          leaseDurationSeconds: LEASE_MS / 1000,
          acquireTime: t,
          renewTime: t,
          leaseTransitions: 0,
        },
        meta,
      );
    };
    await leaseOf('dead-config', 'config', 'shards=4');
    await leaseOf('dead-member-gone', 'member', 'gone');
    await leaseOf('dead-shard-0', 'shard', 'gone');
    await leaseOf('dead-shard-1', 'shard', 'gone');

    const acquired: number[] = [];
    const survivor = new ShardCoordinator(
      kube,
      {
        namespace: ns.name,
        name: 'dead',
        shards: 4,
        identity: 'survivor',
        leaseDurationMs: LEASE_MS,
        renewDeadlineMs: 2000,
        retryPeriodMs: STEP_MS,
        clock: () => now,
      },
      { acquired: (s) => void acquired.push(s), releasing: async () => undefined, lost: () => undefined },
    );
    const member = () =>
      kube.get<LeaseObject>({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        namespace: ns.name,
        name: 'dead-member-survivor',
      });
    /** Moves the survivor's clock on by one renewal period and waits until it has looked at the Leases at that time. */
    const step = async () => {
      now += STEP_MS;
      const at = microTime(new Date(now));
      await eventually(async () => (await member()).spec?.renewTime === at, {
        what: `the survivor renewing its member Lease at ${at}`,
      });
      // Its round at this time has begun; the previous one (with all its acquisitions) is complete.
    };
    try {
      await survivor.start();
      const started = now;
      await eventually(async () => survivor.ownedShards().join() === '2,3', {
        what: 'the survivor holding its fair share (2 of 4) while "gone" looks alive',
      });
      // A write for a key of a held shard may leave until the renew deadline after the last renewal, never later.
      const keyIn = (shard: number) =>
        `${ns.name}/${Array.from({ length: 64 }, (_, i) => `k${i}`).find((k) => shardOf(`${ns.name}/${k}`, 4) === shard)}`;
      assert.equal(survivor.mayWrite(keyIn(2), now), true);
      assert.equal(survivor.mayWrite(keyIn(2), now + 2000), false, 'past the renew deadline without a renewal');
      assert.equal(survivor.mayWrite(keyIn(0), now), false, 'a shard it does not hold');
      while (now + STEP_MS < started + LEASE_MS) {
        await step();
        assert.deepEqual(
          survivor.ownedShards(),
          [2, 3],
          `at +${now - started} ms (lease ${LEASE_MS} ms) the dead replica's shards are not taken yet`,
        );
        assert.deepEqual(survivor.snapshot(now).holders, ['gone', 'gone', 'survivor', 'survivor']);
      }
      now = started + LEASE_MS; // the first look a full lease duration after the last renewal it saw
      await eventually(async () => survivor.ownedShards().length === 4, {
        what: "the survivor taking the dead replica's shards at +lease duration",
      });
      const shard0 = await kube.get<LeaseObject>({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        namespace: ns.name,
        name: 'dead-shard-0',
      });
      assert.equal(shard0.spec?.holderIdentity, 'survivor');
      assert.equal(
        shard0.spec?.acquireTime,
        microTime(new Date(started + LEASE_MS)),
        "acquired at the lease duration, on the survivor's clock",
      );
      assert.equal(shard0.spec?.leaseTransitions, 1);
      assert.deepEqual(acquired.sort(), [0, 1, 2, 3]);
      assert.deepEqual(survivor.snapshot(now).replicas, ['survivor'], 'the dead replica no longer counts as live');
    } finally {
      await survivor.stop();
    }
  });
});
