import assert from 'node:assert/strict';
import { SampleWindow } from './window.js';

describe('autoscaler: SampleWindow', () => {
  const sample = (
    at: number,
    average: number,
    extra: { max?: number; arrivals?: number; intervalMs?: number } = {},
  ) => ({
    at,
    intervalMs: extra.intervalMs ?? 1000,
    average,
    max: extra.max ?? Math.ceil(average),
    arrivals: extra.arrivals ?? (average > 0 ? 1 : 0),
  });

  it('averages over the stable window and over the shorter panic window', () => {
    const w = new SampleWindow(6000);
    for (let t = 1000; t <= 6000; t += 1000) w.add(sample(t, t === 6000 ? 10 : 1));
    const stable = w.summary(6000);
    assert.equal(stable.average, 15 / 6);
    assert.equal(stable.coveredMs, 6000);
    assert.equal(w.summary(6000, 1000).average, 10);
    assert.equal(w.summary(6000, 2000).average, 5.5);
  });

  it('forgets samples older than the window', () => {
    const w = new SampleWindow(3000);
    w.add(sample(1000, 100));
    for (let t = 2000; t <= 5000; t += 1000) w.add(sample(t, 0));
    const s = w.summary(5000);
    assert.equal(s.average, 0);
    assert.equal(s.max, 0);
    assert.equal(s.arrivals, 0, 'the busy second is out of the window: it saw no requests');
  });

  it('weights samples of different lengths by time (a burst report closes an interval early)', () => {
    const w = new SampleWindow(10_000);
    w.add(sample(1000, 2));
    w.add(sample(1100, 50, { intervalMs: 100 }));
    assert.equal(w.summary(1100).average, (2 * 1000 + 50 * 100) / 1100);
    assert.equal(w.summary(1100, 100).average, 50);
  });

  it('reports how much of the window it has seen, so a restarted autoscaler waits before scaling to zero', () => {
    const w = new SampleWindow(60_000);
    w.add(sample(1000, 0));
    assert.equal(w.summary(1000).coveredMs, 1000);
  });
});
