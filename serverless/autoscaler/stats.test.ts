import assert from 'node:assert/strict';
import type { MeterStats } from '../activator/activator.js';
import { StatsAggregator } from './stats.js';

const reading = (
  at: number,
  area: number,
  arrivals: number,
  current: number,
  extra: { peak?: number; idleMs?: number; queued?: number; ready?: number } = {},
) => ({
  at,
  area,
  arrivals,
  current,
  peak: extra.peak ?? current,
  ...(extra.idleMs !== undefined ? { idleMs: extra.idleMs } : {}),
  queued: extra.queued ?? 0,
  ready: extra.ready ?? 1,
});
const stats = (meter: string, revisions: MeterStats['revisions']): MeterStats => ({ meter, revisions });

describe("autoscaler: StatsAggregator (concurrency from every activator, Knative's way)", () => {
  it('adds up what each meter saw since its own previous reading, on its own clock', () => {
    const agg = new StatsAggregator();
    agg.take([
      stats('a', { 'ns/f-00001': reading(1000, 0, 0, 0) }),
      stats('b', { 'ns/f-00001': reading(50_000, 100, 1, 0) }),
    ]);
    const r = agg
      .take([
        stats('a', { 'ns/f-00001': reading(2000, 3000, 10, 2, { peak: 4, idleMs: 5 }) }),
        stats('b', { 'ns/f-00001': reading(51_000, 1100, 3, 1, { idleMs: 20, queued: 2, ready: 0 }) }),
      ])
      .get('ns/f-00001')!;
    assert.equal(r.average, 3 + 1, 'a averaged 3 over its second, b 1 over its own');
    assert.equal(r.arrivals, 10 + 2);
    assert.equal(r.current, 3);
    assert.equal(r.max, 4 + 1);
    assert.equal(r.idleMs, 5, 'the most recent activity anywhere');
    assert.equal(r.queued, 2);
    assert.equal(r.ready, 1, 'the meter that sees the most instances');
    assert.equal(r.intervalMs, 1000);
  });

  it('counts a meter seen for the first time (a new replica, or after a leader change) by its concurrency only', () => {
    const agg = new StatsAggregator();
    const r = agg.take([stats('new', { 'ns/f-00001': reading(9_000_000, 123_456, 999, 2) })]).get('ns/f-00001')!;
    assert.deepEqual([r.average, r.arrivals, r.current], [2, 0, 2], 'its totals since it started are not one interval');
    assert.equal(r.idleMs, Infinity, 'no activity reported (as JSON carries it: no idleMs) is idle for ever');
  });

  it('forgets a meter that stopped reporting, and starts over with it if it comes back', () => {
    const agg = new StatsAggregator();
    agg.take([stats('a', { 'ns/f': reading(0, 0, 0, 1) }), stats('b', { 'ns/f': reading(0, 0, 0, 5) })]);
    assert.equal(
      agg.take([stats('a', { 'ns/f': reading(1000, 1000, 0, 1) })]).get('ns/f')!.current,
      1,
      'b is gone: its five in flight went with it',
    );
    const back = agg
      .take([stats('a', { 'ns/f': reading(2000, 2000, 0, 1) }), stats('b', { 'ns/f': reading(100, 50, 1, 1) })])
      .get('ns/f')!;
    assert.deepEqual([back.average, back.arrivals], [2, 0], 'b restarted: a baseline, not a difference');
  });
});
