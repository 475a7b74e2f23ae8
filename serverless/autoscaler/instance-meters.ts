import type { Activator, MeterStats } from '../activator/activator.js';
import { readInstanceMeter } from '../meter/instance-meter.js';

/** What the instances' own meters said on one tick. */
export interface InstanceReadings {
  /** One entry per instance that answered, as if it were one more activator (the aggregator adds them up). */
  stats: MeterStats[];
  /** Revision keys whose every ready instance answered: only those may be served directly (serve mode). */
  metered: Set<string>;
}

/**
 * Reads the meter of every instance the activator knows (docs/adr/0017-instance-meter.md), in
 * parallel, once per tick. Each instance counts only the requests that did not come through an
 * activator, so adding its readings to the activators' counts every request once, whichever way it
 * went. A revision with a ready instance that has no meter, or whose meter did not answer, is not
 * metered: its Service stays on the activators.
 *
 * @example
 *   const { stats, metered } = await readInstanceMeters(activator)
 *   aggregator.take([...(await fleet.collect()), ...stats])
 */
export async function readInstanceMeters(activator: Activator, timeoutMs = 500): Promise<InstanceReadings> {
  const stats: MeterStats[] = [];
  const metered = new Set<string>();
  await Promise.all(
    activator.keys().map(async (key) => {
      const instances = [...(activator.traffic(key)?.instances.values() ?? [])].filter(
        (i) => !i.gone && (i.state === 'ready' || i.state === 'draining'),
      );
      const readings = await Promise.all(
        instances.map(async (i) => ({
          instance: i,
          reading: i.meterPort ? await readInstanceMeter(i.host, i.meterPort, timeoutMs) : undefined,
        })),
      );
      let all = instances.length > 0;
      for (const { instance, reading } of readings) {
        if (!reading) {
          all = false;
          continue;
        }
        stats.push({
          meter: `instance ${instance.host}:${instance.meterPort}`,
          revisions: { [key]: { ...reading, queued: 0, ready: 0 } },
        });
      }
      if (all) metered.add(key);
    }),
  );
  return { stats, metered };
}

/**
 * Requests the instances took directly (serve mode), from their meters' running totals: what the
 * activators' `trellis_activator_requests_total` cannot see (docs/adr/0017-instance-meter.md). Each
 * meter's arrivals are remembered from one reading to the next; a count that fell is a restarted
 * meter (counted from 0); a meter unread for {@link FORGET_AFTER} readings is forgotten. A meter read
 * for the first time counts everything it has (an instance is read from its first tick on).
 *
 * @example
 *   const direct = new DirectArrivals()
 *   direct.take((await readInstanceMeters(activator)).stats)   // Map { 'shop/hello-00001' => 42 }
 */
export class DirectArrivals {
  private readonly last = new Map<string, { arrivals: number; unread: number }>();

  /** Requests each revision's instances took directly since the previous call (revisions with some). */
  take(stats: MeterStats[]): Map<string, number> {
    const added = new Map<string, number>();
    for (const entry of this.last.values()) entry.unread++;
    for (const s of stats) {
      for (const [key, reading] of Object.entries(s.revisions)) {
        const id = `${s.meter} ${key}`;
        const before = this.last.get(id)?.arrivals ?? 0;
        const n = reading.arrivals >= before ? reading.arrivals - before : reading.arrivals;
        this.last.set(id, { arrivals: reading.arrivals, unread: 0 });
        if (n > 0) added.set(key, (added.get(key) ?? 0) + n);
      }
    }
    for (const [id, entry] of this.last) if (entry.unread > FORGET_AFTER) this.last.delete(id);
    return added;
  }
}

/** Readings a gone instance's last count is kept for (a meter that missed a few still continues). */
const FORGET_AFTER = 10;
