import type { MeterStats, RevisionReading } from '../activator/activator.js';
import { interval, type ConcurrencySample } from '../activator/meter.js';

/** What the autoscaler reads for one revision over one interval, summed over every meter. */
export interface TrafficReport extends ConcurrencySample {
  /** Requests held at any meter, waiting for an instance. */
  queued: number;
  /** Instances the best-informed meter can route to. */
  ready: number;
  /** ms since the last arrival or completion at any meter (Infinity: none seen). */
  idleMs: number;
}

/**
 * Knative's way of seeing all the traffic: every meter (each activator replica) counts what passes
 * through it, and the autoscaler adds them up. Fed the readings of the live meters once per tick, it
 * differences each meter's reading against that meter's previous one (a meter seen for the first
 * time counts with its current concurrency only) and sums per revision: averages, peaks, arrivals,
 * concurrency and queues add; the idle time is the shortest. Meters that stopped reporting are
 * forgotten, so a replica that died takes nothing with it but what it held.
 *
 * @example
 *   const reports = aggregator.take([localActivator.stats('me'), ...remote])
 *   reports.get('shop/hello-00002')?.average
 */
export class StatsAggregator {
  private last = new Map<string, Record<string, RevisionReading>>();

  take(stats: MeterStats[]): Map<string, TrafficReport> {
    const out = new Map<string, TrafficReport>();
    const next = new Map<string, Record<string, RevisionReading>>();
    for (const { meter, revisions } of stats) {
      const before = this.last.get(meter);
      next.set(meter, revisions);
      for (const [key, now] of Object.entries(revisions)) {
        const prev = before?.[key];
        const sample =
          prev && prev.at <= now.at
            ? interval(prev, now)
            : { average: now.current, max: now.current, arrivals: 0, current: now.current, intervalMs: 0 };
        const sum = out.get(key);
        if (!sum) {
          out.set(key, { ...sample, queued: now.queued, ready: now.ready, idleMs: now.idleMs ?? Infinity });
          continue;
        }
        sum.average += sample.average;
        sum.max += sample.max;
        sum.arrivals += sample.arrivals;
        sum.current += sample.current;
        sum.intervalMs = Math.max(sum.intervalMs, sample.intervalMs);
        sum.queued += now.queued;
        sum.ready = Math.max(sum.ready, now.ready);
        sum.idleMs = Math.min(sum.idleMs, now.idleMs ?? Infinity);
      }
    }
    this.last = next;
    return out;
  }
}
