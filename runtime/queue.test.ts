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
    assert.deepEqual([q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a')], [10, 20, 40, 50]);
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

  it('reports its depth as keys come and go', async () => {
    const depths: number[] = [];
    const q = new WorkQueue({ onDepth: (d) => depths.push(d) });
    q.add('a');
    q.add('b');
    await q.get();
    assert.deepEqual(depths, [1, 2, 1]);
  });
});
