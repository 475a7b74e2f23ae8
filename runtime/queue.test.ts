import assert from 'node:assert/strict';
import { FreshWork, WorkQueue } from './queue.js';

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

  it('hands out a low-priority key only while no normal key waits or runs, and in FIFO once set back to normal', async () => {
    const q = new WorkQueue();
    q.setPriority('waiting', 'low');
    q.add('waiting');
    q.add('fresh-1');
    q.add('fresh-2');
    assert.equal(q.length, 3);
    assert.equal(q.priorityOf('waiting'), 'low');
    assert.equal(await q.get(), 'fresh-1');
    assert.equal(await q.get(), 'fresh-2');
    let low: string | undefined;
    void q.get().then((k) => (low = k));
    q.done('fresh-1');
    await tick();
    assert.equal(low, undefined, 'fresh-2 still runs');
    q.done('fresh-2');
    await tick();
    assert.equal(low, 'waiting');
    q.setPriority('waiting', 'normal');
    q.done('waiting');
    q.add('waiting');
    q.add('fresh-3');
    assert.deepEqual([await q.get(), await q.get()], ['waiting', 'fresh-3'], 'FIFO again');
  });

  it('hands out a low-priority key first once it has waited lowPriorityMaxWaitMs (no starvation)', async () => {
    const q = new WorkQueue({ lowPriorityMaxWaitMs: 30 });
    q.setPriority('waiting', 'low');
    q.add('waiting');
    q.add('fresh-1');
    await new Promise((r) => setTimeout(r, 40));
    q.add('fresh-2');
    assert.equal(await q.get(), 'waiting');
    assert.equal(await q.get(), 'fresh-1');
  });

  it('holds a low-priority key back for lowPriorityDelayMs even when idle, so fresh work applied with it goes first', async () => {
    const q = new WorkQueue({ lowPriorityDelayMs: 60_000 });
    q.setPriority('waiting', 'low');
    q.add('waiting');
    let first: string | undefined;
    void q.get().then((k) => (first = k));
    await tick();
    assert.equal(first, undefined, 'nothing else to do, and still the low key waits');
    q.add('fresh');
    await tick();
    assert.equal(first, 'fresh', 'fresh work arriving meanwhile goes first');
    q.done('fresh');
    await tick();
    assert.equal(q.length, 1, 'the low key still waits');
    q.shutDown();
  });

  it('holds a low-priority key back while another queue sharing its FreshWork gets fresh work', async () => {
    const freshWork = new FreshWork();
    const background = new WorkQueue({ lowPriorityDelayMs: 60_000, freshWork });
    const other = new WorkQueue({ freshWork });
    background.setPriority('waiting', 'low');
    background.add('waiting');
    assert.ok(freshWork.idleFor() === Infinity, 'a low add is not fresh work');
    other.add('component');
    assert.ok(freshWork.idleFor() < 60_000, "the other queue's add is");
    let first: string | undefined;
    void background.get().then((k) => (first = k));
    await tick();
    assert.equal(first, undefined);
    background.shutDown();
    other.shutDown();
  });

  it('hands a held low-priority key out by itself once lowPriorityDelayMs has passed (no further add)', async () => {
    const q = new WorkQueue({ lowPriorityDelayMs: 20 });
    q.setPriority('waiting', 'low');
    q.add('waiting');
    assert.equal(await q.get(), 'waiting');
  });

  it('a low-priority key re-added while processing is queued in the low lane at done()', async () => {
    const q = new WorkQueue();
    q.add('a');
    const a = await q.get();
    q.add('a');
    q.setPriority('a', 'low');
    q.done(a!);
    q.add('b');
    assert.equal(await q.get(), 'b');
    q.done('b');
    assert.equal(await q.get(), 'a');
  });

  it('hands out at most lowPriorityMaxActive low-priority keys at once', async () => {
    const q = new WorkQueue({ lowPriorityMaxActive: 1 });
    q.setPriority('a', 'low');
    q.setPriority('b', 'low');
    q.add('a');
    q.add('b');
    assert.equal(await q.get(), 'a');
    let second: string | undefined;
    let third: string | undefined;
    void q.get().then((k) => (second = k));
    void q.get().then((k) => (third = k));
    await tick();
    assert.equal(second, undefined, 'b waits while a low key runs');
    q.add('fresh');
    await tick();
    assert.equal(second, 'fresh', 'the free worker takes fresh work');
    q.done('a');
    await tick();
    assert.equal(third, undefined, 'fresh runs: b still waits');
    q.done('fresh');
    await tick();
    assert.equal(third, 'b');
  });
  it('queues a low add (a resync) behind fresh work, and a normal add of the same key moves it up', async () => {
    const q = new WorkQueue();
    q.add('resync-1', 'low');
    q.add('resync-2', 'low');
    q.add('edited');
    assert.equal(await q.get(), 'edited', 'fresh work goes before the resync queued earlier');
    let next: string | undefined;
    void q.get().then((k) => (next = k));
    await tick();
    assert.equal(next, undefined, 'a resync key waits while fresh work runs');
    q.add('resync-2'); // its object changed meanwhile: fresh work now
    await tick();
    assert.equal(next, 'resync-2', 'promoted to the normal lane, handed out beside the running key');
    q.done('edited');
    q.done('resync-2');
    assert.equal(await q.get(), 'resync-1');
    assert.equal(q.length, 0, 'each key queued once');
  });

  it('a key re-added by a low add while processing is queued in the low lane at done(), by a normal add in the normal lane', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    assert.equal(await q.get(), 'a');
    assert.equal(await q.get(), 'b');
    q.add('a', 'low');
    q.add('b', 'low');
    q.add('b');
    q.done('a');
    q.done('b');
    q.add('c');
    assert.equal(await q.get(), 'b', 'b was also added by a change: normal lane');
    assert.equal(await q.get(), 'c');
    let last: string | undefined;
    void q.get().then((k) => (last = k));
    await tick();
    assert.equal(last, undefined, 'a, added only by a resync, waits for fresh work to finish');
    q.done('b');
    q.done('c');
    await tick();
    assert.equal(last, 'a');
  });

  it('a key set low stays in the low lane on a normal add', async () => {
    const q = new WorkQueue();
    q.setPriority('waits', 'low');
    q.add('waits');
    q.add('waits');
    q.add('fresh');
    assert.equal(await q.get(), 'fresh');
    assert.equal(q.length, 1);
  });
});
