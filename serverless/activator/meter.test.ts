import assert from 'node:assert/strict';
import { ConcurrencyMeter } from './meter.js';

describe('activator: ConcurrencyMeter', () => {
  it('averages concurrency over time, counting requests shorter than the interval', () => {
    const m = new ConcurrencyMeter(0);
    m.enter(0);
    m.enter(0);
    m.leave(500); // two requests for 500 ms, then one for 500 ms
    const s = m.take(1000);
    assert.equal(s.average, 1.5);
    assert.equal(s.max, 2);
    assert.equal(s.arrivals, 2);
    assert.equal(s.current, 1);
    assert.equal(s.intervalMs, 1000);
  });

  it('starts the next interval where the last one ended', () => {
    const m = new ConcurrencyMeter(0);
    m.enter(0);
    m.take(1000);
    m.leave(1250);
    const s = m.take(2000);
    assert.equal(s.average, 0.25);
    assert.equal(s.arrivals, 0);
    assert.equal(s.max, 1, 'the request still in flight at the start counts');
    assert.equal(m.take(3000).max, 0);
  });

  it('sees a burst of 1 ms requests that point sampling would miss', () => {
    const m = new ConcurrencyMeter(0);
    for (let t = 0; t < 1000; t += 2) {
      m.enter(t);
      m.leave(t + 1);
    }
    const s = m.take(1000);
    assert.equal(s.average, 0.5);
    assert.equal(s.arrivals, 500);
    assert.equal(m.lastActivity, 999);
  });
});
