import assert from 'node:assert/strict';
import { WorkQueue } from './queue.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('runtime: WorkQueue', () => {
  it('hands out a key added twice only once (dedup)', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('a');
    q.add('b');
    assert.equal(q.length, 2);
    assert.equal(await q.get(), 'a');
    assert.equal(await q.get(), 'b');
    assert.equal(q.length, 0);
  });

  it('never hands out a key that is being processed; an add meanwhile re-queues it at done()', async () => {
    const q = new WorkQueue();
    q.add('a');
    const first = await q.get();
    q.add('a');
    assert.equal(q.length, 0, 'not queued while processing');
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await tick();
    assert.equal(second, undefined, 'a waiting worker does not get the key being processed');
    q.done(first!);
    await tick();
    assert.equal(second, 'a');
  });

  it('wakes a waiting worker on add', async () => {
    const q = new WorkQueue();
    const got = q.get();
    q.add('x');
    assert.equal(await got, 'x');
    assert.equal(q.active, 1);
    q.done('x');
    assert.equal(q.active, 0);
  });

  it('backs off exponentially per key and forget() resets it', () => {
    const q = new WorkQueue({ backoff: { initialMs: 10, maxMs: 50 } });
    assert.deepEqual(
      [q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a')],
      [10, 20, 40, 50],
    );
    assert.equal(q.addRateLimited('b'), 10, 'keys back off independently');
    assert.equal(q.retries('a'), 4);
    q.forget('a');
    assert.equal(q.retries('a'), 0);
    assert.equal(q.addRateLimited('a'), 10);
    q.shutDown();
  });

  it('addAfter delivers once, keeping the earliest of several delays', async () => {
    const q = new WorkQueue();
    q.addAfter('a', 5_000);
    q.addAfter('a', 20);
    q.addAfter('a', 10_000);
    assert.equal(await q.get(), 'a');
    q.done('a');
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(q.length, 0, 'the later delays were dropped');
    q.shutDown();
  });

  it('shutDown() resolves waiting workers with undefined and refuses new keys', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.shutDown();
    assert.equal(await waiting, undefined);
    q.add('late');
    assert.equal(q.length, 0);
    assert.equal(await q.get(), undefined);
  });

  it('reports depth, adds, retries, time waited and time worked as client-go does', async () => {
    const seen = { depths: [] as number[], adds: 0, retries: 0, waited: [] as number[], worked: [] as number[] };
    const q = new WorkQueue({
      backoff: { initialMs: 1 },
      metrics: {
        depth: (d) => seen.depths.push(d),
        added: () => seen.adds++,
        retried: () => seen.retries++,
        waited: (s) => seen.waited.push(s),
        worked: (s) => seen.worked.push(s),
      },
    });
    q.add('a');
    q.add('a');
    q.add('b');
    const a = await q.get();
    assert.equal(q.inFlightSeconds().longest >= 0, true);
    assert.equal(seen.worked.length, 0, 'nothing done yet');
    q.addRateLimited(a!);
    q.done(a!);
    assert.deepEqual(seen.depths, [1, 2, 1]);
    assert.equal(seen.adds, 2, 'a key already waiting is not added again');
    assert.equal(seen.retries, 1);
    assert.equal(seen.waited.length, 1);
    assert.equal(seen.worked.length, 1);
    assert.ok(seen.waited[0]! >= 0 && seen.worked[0]! >= 0);
    assert.deepEqual(q.inFlightSeconds(), { total: 0, longest: 0 }, 'nothing in flight after done');
  });
});
