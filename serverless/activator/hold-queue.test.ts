import assert from 'node:assert/strict';
import { HoldError, HoldQueue } from './hold-queue.js';

const rejection = (why: string) => (err: unknown) => err instanceof HoldError && err.why === why;

describe('activator: HoldQueue', () => {
  it('hands granted values to waiters in arrival order', async () => {
    const q = new HoldQueue<string>(10);
    const a = q.hold(1000);
    const b = q.hold(1000);
    assert.equal(q.length, 2);
    assert.equal(q.grant('first'), true);
    assert.equal(q.grant('second'), true);
    assert.deepEqual(await Promise.all([a, b]), ['first', 'second']);
    assert.equal(q.length, 0);
    assert.equal(q.grant('nobody'), false);
  });

  it('refuses a request beyond its capacity with overflow (the activator answers 503)', async () => {
    const q = new HoldQueue<string>(1);
    const held = q.hold(1000);
    await assert.rejects(q.hold(1000), rejection('overflow'));
    q.grant('x');
    assert.equal(await held, 'x');
  });

  it('rejects a waiter with timeout after its deadline and skips it when granting', async () => {
    const q = new HoldQueue<string>(10);
    const late = q.hold(5);
    const patient = q.hold(1000);
    await assert.rejects(late, rejection('timeout'));
    assert.equal(q.length, 1);
    q.grant('y');
    assert.equal(await patient, 'y');
  });

  it('drops a cancelled waiter, and rejectAll empties the queue', async () => {
    const q = new HoldQueue<string>(10);
    let cancel: () => void = () => {};
    const gone = q.hold(1000, { onCancel: (cb) => (cancel = cb) });
    const other = q.hold(1000);
    cancel();
    await assert.rejects(gone, rejection('cancelled'));
    q.rejectAll('cancelled');
    await assert.rejects(other, rejection('cancelled'));
    assert.equal(q.length, 0);
  });
});
