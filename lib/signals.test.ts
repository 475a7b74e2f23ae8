import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { stopSignal } from './signals.js';

// An emitter stands in for the process: a real signal would also reach the test run's own handlers
// (the control plane fixture stops on SIGINT/SIGTERM).
describe('lib: stopSignal', () => {
  const listeners = (e: EventEmitter) => e.listenerCount('SIGINT') + e.listenerCount('SIGTERM');

  it('resolves with the signal received and leaves no listener behind', async () => {
    const source = new EventEmitter();
    const stop = stopSignal(source);
    assert.equal(listeners(source), 2);
    source.emit('SIGTERM', 'SIGTERM');
    source.emit('SIGINT', 'SIGINT');
    assert.equal(await stop.signal, 'SIGTERM', 'the first signal wins');
    assert.equal(listeners(source), 0);
  });

  it('after dispose, a signal reaches the next listener only', async () => {
    const source = new EventEmitter();
    const first = stopSignal(source);
    first.dispose();
    const second = stopSignal(source);
    source.emit('SIGINT', 'SIGINT');
    assert.equal(await second.signal, 'SIGINT');
    const pending = await Promise.race([first.signal, new Promise((r) => setImmediate(() => r('pending')))]);
    assert.equal(pending, 'pending', 'the disposed one never resolves');
    assert.equal(listeners(source), 0);
  });

  it('listens on the process by default, and dispose removes exactly its own listeners', () => {
    const before = process.listenerCount('SIGINT') + process.listenerCount('SIGTERM');
    const stop = stopSignal();
    assert.equal(process.listenerCount('SIGINT') + process.listenerCount('SIGTERM'), before + 2);
    stop.dispose();
    assert.equal(process.listenerCount('SIGINT') + process.listenerCount('SIGTERM'), before);
  });
});
