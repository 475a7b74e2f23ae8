import assert from 'node:assert/strict';
import { ConcurrencyMeter, interval } from './meter.js';

describe('activator: ConcurrencyMeter', () => {
  it('averages concurrency over time, counting requests shorter than the interval', () => {
    const m = new ConcurrencyMeter(0);
    const start = m.read(0);
    m.enter(0);
    m.enter(0);
    m.leave(500); // two requests for 500 ms, then one for 500 ms
    const s = interval(start, m.read(1000));
    assert.equal(s.average, 1.5);
    assert.equal(s.max, 2);
    assert.equal(s.arrivals, 2);
    assert.equal(s.current, 1);
    assert.equal(s.intervalMs, 1000);
  });

  it('starts the next interval where the last one ended', () => {
    const m = new ConcurrencyMeter(0);
    m.enter(0);
    const first = m.read(1000);
    m.leave(1250);
    const second = m.read(2000);
    const s = interval(first, second);
    assert.equal(s.average, 0.25);
    assert.equal(s.arrivals, 0);
    assert.equal(s.max, 1, 'the request still in flight at the start counts');
    assert.equal(interval(second, m.read(3000)).max, 0);
  });

  it('sees a burst of 1 ms requests that point sampling would miss', () => {
    const m = new ConcurrencyMeter(0);
    const start = m.read(0);
    for (let t = 0; t < 1000; t += 2) {
      m.enter(t);
      m.leave(t + 1);
    }
    const end = m.read(1000);
    const s = interval(start, end);
    assert.equal(s.average, 0.5);
    assert.equal(s.arrivals, 500);
    assert.equal(end.idleMs, 1);
    assert.equal(start.idleMs, undefined, 'nothing happened before');
  });

  it('gives two readers the same totals (only the peak is per reading)', () => {
    const m = new ConcurrencyMeter(0);
    m.enter(0);
    const a = m.read(100);
    const b = m.read(100);
    assert.deepEqual([a.area, a.arrivals, a.current], [b.area, b.arrivals, b.current]);
  });
});
