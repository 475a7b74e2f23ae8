import assert from 'node:assert/strict';
import type { InformerHandlers, KubeObject } from '../kube/index.js';
import {
  Controller,
  shardedReconcile,
  type ControllerHost,
  type ControllerOptions,
  type EventSource,
  type KeyOwnership,
} from './controller.js';
import { RuntimeMetrics } from './metrics.js';
import { generationChanged } from './predicates.js';
import { TerminalError, type Reconciler, type Request } from './reconciler.js';

/** An in-memory event source: what an Informer delivers, without a cluster. */
class Events implements EventSource {
  readonly handlers: InformerHandlers<KubeObject>[] = [];
  readonly cache = new Map<string, KubeObject>();
  on(h: InformerHandlers<KubeObject>) {
    this.handlers.push(h);
    return this;
  }
  list() {
    return [...this.cache.values()];
  }
  add(o: KubeObject) {
    this.cache.set(o.metadata.name!, o);
    for (const h of this.handlers) h.add?.(o);
  }
  update(o: KubeObject, old: KubeObject) {
    for (const h of this.handlers) h.update?.(o, old);
  }
}

const obj = (name: string, generation = 1, owner?: string): KubeObject => ({
  apiVersion: 'example.com/v1',
  kind: owner ? 'Child' : 'Thing',
  metadata: {
    name,
    namespace: 'ns',
    generation,
    ...(owner
      ? { ownerReferences: [{ apiVersion: 'example.com/v1', kind: 'Thing', name: owner, uid: 'u', controller: true }] }
      : {}),
  },
});

function setup(
  reconciler: Reconciler,
  concurrency = 4,
  shards?: KeyOwnership,
  priority?: ControllerOptions['priority'],
) {
  const sources = new Map<string, Events>();
  const metrics = new RuntimeMetrics({ defaultMetrics: false });
  const host: ControllerHost = {
    informer: <O extends KubeObject>(spec: { kind: string }) => {
      if (!sources.has(spec.kind)) sources.set(spec.kind, new Events());
      return sources.get(spec.kind)! as unknown as EventSource<O>;
    },
    ensureStarted: async () => {},
    metrics,
    logger: undefined as never,
    concurrency,
    ...(shards ? { shards } : {}),
  };
  const controller = new Controller(host, {
    name: 'test',
    for: { apiVersion: 'example.com/v1', kind: 'Thing', predicates: [generationChanged] },
    owns: [{ apiVersion: 'example.com/v1', kind: 'Child' }],
    reconciler,
    backoff: { initialMs: 5, maxMs: 20 },
    ...(priority ? { priority } : {}),
  });
  return { controller, things: sources.get('Thing')!, children: sources.get('Child')!, metrics };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), 'condition not reached');
};

describe('runtime: Controller', () => {
  it('runs keys concurrently up to N workers but never one key twice at once', async () => {
    let running = 0;
    let maxRunning = 0;
    const perKey = new Map<string, number>();
    let overlap = false;
    const calls: string[] = [];
    const { controller, things } = setup(
      {
        async reconcile(_ctx, req: Request) {
          const k = req.name;
          perKey.set(k, (perKey.get(k) ?? 0) + 1);
          if (perKey.get(k)! > 1) overlap = true;
          running++;
          maxRunning = Math.max(maxRunning, running);
          calls.push(k);
          await new Promise((r) => setTimeout(r, 20));
          running--;
          perKey.set(k, perKey.get(k)! - 1);
        },
      },
      3,
    );
    controller.start();
    for (let i = 0; i < 6; i++) things.add(obj(`t${i}`));
    await new Promise((r) => setTimeout(r, 5));
    // while t0 runs, two more changes to it: coalesced into one more reconcile after the current one
    things.update(obj('t0', 2), obj('t0', 1));
    things.update(obj('t0', 3), obj('t0', 2));
    await until(() => calls.length === 7 && running === 0);
    await controller.stop();
    assert.equal(maxRunning, 3);
    assert.equal(overlap, false);
    assert.equal(calls.filter((c) => c === 't0').length, 2);
  });

  it('maps events of owned kinds to the controlling owner, and filters with predicates', async () => {
    const seen: string[] = [];
    const { controller, things, children } = setup({
      async reconcile(_c, req) {
        seen.push(req.name);
      },
    });
    controller.start();
    children.add(obj('child', 1, 'parent'));
    await until(() => seen.length === 1);
    things.update(obj('x', 4), obj('x', 4)); // generation unchanged: skipped
    things.add(obj('y'));
    await until(() => seen.length === 2);
    await controller.stop();
    assert.deepEqual(seen, ['parent', 'y']);
  });

  it('retries a thrown error with backoff, does not retry a TerminalError, and honours requeueAfter', async () => {
    const attempts = new Map<string, number>();
    const retriesSeen: number[] = [];
    const { controller, things, metrics } = setup({
      async reconcile(ctx, req) {
        const n = (attempts.get(req.name) ?? 0) + 1;
        attempts.set(req.name, n);
        if (req.name === 'flaky') {
          retriesSeen.push(ctx.retries);
          if (n < 3) throw new Error('transient');
        }
        if (req.name === 'broken') throw new TerminalError('spec is invalid');
        if (req.name === 'poll' && n < 3) return { requeueAfter: 10 };
        return {};
      },
    });
    controller.start();
    for (const n of ['flaky', 'broken', 'poll']) things.add(obj(n));
    await until(() => attempts.get('flaky') === 3 && attempts.get('poll') === 3);
    await new Promise((r) => setTimeout(r, 50));
    await controller.stop();
    assert.equal(attempts.get('broken'), 1);
    assert.deepEqual(retriesSeen, [0, 1, 2]);
    const text = await metrics.registry.getSingleMetricAsString('controller_runtime_reconcile_total');
    assert.match(text, /result="error"} 3/, 'two failures and one terminal error');
    assert.match(text, /result="requeue_after"} 2/);
    assert.match(
      await metrics.registry.getSingleMetricAsString('controller_runtime_terminal_reconcile_errors_total'),
      /} 1$/m,
    );
    assert.match(
      await metrics.registry.getSingleMetricAsString('workqueue_retries_total'),
      /name="test",controller="test"} 2/,
    );
  });

  it('stop() waits for a running reconcile and aborts its signal', async () => {
    let aborted = false;
    let finished = false;
    const { controller, things } = setup({
      async reconcile(ctx) {
        await new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r(), { once: true }));
        aborted = ctx.signal.aborted;
        await new Promise((r) => setTimeout(r, 20));
        finished = true;
      },
    });
    controller.start();
    things.add(obj('slow'));
    await until(() => controller.queue.active === 1);
    await controller.stop();
    assert.equal(aborted, true);
    assert.equal(finished, true);
  });

  it('with sharding: reconciles only keys of the shards it holds, requeues a shard it takes over, drains one it hands over', async () => {
    const owned = new Set(['ns/a']);
    const seen: string[] = [];
    /** What a write fence would be told after each reconcile's await: its key, and whether it may still write. */
    const fenced: string[] = [];
    let release!: () => void;
    const { controller, things } = setup(
      {
        async reconcile(_ctx, req) {
          seen.push(req.name);
          if (req.name === 'b') await new Promise<void>((r) => (release = r));
          const r = shardedReconcile();
          fenced.push(`${r?.key} ${r?.mayWrite()}`);
        },
      },
      4,
      { owns: (key) => owned.has(key), mayWrite: (key) => owned.has(key) },
    );
    controller.start();
    things.add(obj('a'));
    things.add(obj('b')); // not this replica's: never reconciled here
    await until(() => seen.length === 1);
    assert.deepEqual(seen, ['a']);

    owned.add('ns/b'); // b's shard taken over: every cached key of it is queued
    controller.requeue((key) => key === 'ns/b');
    await until(() => seen.length === 2);
    let drained = false;
    const drain = controller.drain((key) => key === 'ns/b').then(() => (drained = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(drained, false, 'a reconcile of b still runs');
    owned.delete('ns/b'); // handed over while b's reconcile runs: its writes from now on are refused
    release();
    await drain;
    assert.deepEqual(fenced, ['ns/a true', 'ns/b false']);
    assert.ok(await controller.drain((key) => key === 'ns/a').then(() => true), 'nothing of a runs: resolves at once');
    await controller.stop();
    assert.deepEqual(seen, ['a', 'b']);
  });

  it("queues a key behind fresh work while its last reconcile returned priority 'low', and normally after one that did not", async () => {
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { controller, things } = setup(
      {
        async reconcile(_ctx, req) {
          seen.push(req.name);
          if (req.name === 'blocker') await gate;
          return req.name === 'waiting' && seen.filter((n) => n === 'waiting').length < 2 ? { priority: 'low' } : {};
        },
      },
      1,
    );
    controller.start();
    things.add(obj('waiting'));
    await until(() => seen.length === 1);
    assert.equal(controller.queue.priorityOf('ns/waiting'), 'low');
    things.add(obj('blocker')); // holds the only worker while the others queue
    await until(() => seen.length === 2);
    things.update(obj('waiting', 2), obj('waiting', 1));
    things.add(obj('fresh'));
    release();
    await until(() => seen.length === 4);
    assert.deepEqual(
      seen,
      ['waiting', 'blocker', 'fresh', 'waiting'],
      'the waiting key, added first, went after fresh',
    );
    await until(() => controller.queue.active === 0);
    assert.equal(controller.queue.priorityOf('ns/waiting'), 'normal', 'its second reconcile returned no priority');
    await controller.stop();
  });

  it("queues an object its `priority` option calls 'low' behind fresh work from its first event", async () => {
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { controller, things } = setup(
      {
        async reconcile(_ctx, req) {
          seen.push(req.name);
          if (req.name === 'blocker') await gate;
        },
      },
      1,
      undefined,
      (o) => (o.metadata.name!.startsWith('known-') ? 'low' : undefined),
    );
    controller.start();
    things.add(obj('blocker'));
    await until(() => seen.length === 1);
    things.add(obj('known-waiting'));
    things.add(obj('fresh'));
    release();
    await until(() => seen.length === 3);
    assert.deepEqual(seen, ['blocker', 'fresh', 'known-waiting']);
    await controller.stop();
  });
  it('queues what a periodic resync replays behind fresh work; a real change of a replayed key moves it up', async () => {
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { controller, things, children } = setup(
      {
        async reconcile(_ctx, req) {
          seen.push(req.name);
          if (req.name === 'blocker') await gate;
        },
      },
      1,
    );
    controller.start();
    things.add(obj('blocker'));
    await until(() => seen.length === 1);
    const at = (o: KubeObject, resourceVersion: string) => ({ ...o, metadata: { ...o.metadata, resourceVersion } });
    const child = (owner: string, resourceVersion: string) => at(obj(`${owner}-child`, 1, owner), resourceVersion);
    for (const owner of ['a', 'b', 'c']) children.update(child(owner, '1'), child(owner, '1')); // the informer's resync
    children.update(child('c', '2'), child('c', '1')); // c's child really changed
    things.update(at(obj('fresh', 2), '2'), at(obj('fresh', 1), '1'));
    release();
    await until(() => seen.length === 5);
    assert.deepEqual(seen, ['blocker', 'c', 'fresh', 'a', 'b'], 'the resync of a and b went after the changes');
    await controller.stop();
  });
  it('tells the passes of a key whose shard it took over to verify, until one succeeds', async () => {
    const owned = new Set<string>();
    const passes: string[] = [];
    let failures = 1;
    const { controller, things } = setup(
      {
        async reconcile(ctx, req) {
          passes.push(`${req.name} ${ctx.verify ? 'verify' : 'cached'}`);
          if (req.name === 'b' && failures-- > 0) throw new Error('the API server is busy');
        },
      },
      2,
      { owns: (key) => owned.has(key), mayWrite: (key) => owned.has(key) },
    );
    controller.start();
    things.add(obj('b'));
    owned.add('ns/b');
    controller.requeue((key) => key === 'ns/b');
    await until(() => passes.length === 2);
    things.update({ ...obj('b', 2), metadata: { ...obj('b', 2).metadata, resourceVersion: '2' } }, obj('b'));
    await until(() => passes.length === 3);
    await controller.stop();
    assert.deepEqual(
      passes,
      ['b verify', 'b verify', 'b cached'],
      'the failed pass did not end it; the successful one did',
    );
  });
});
