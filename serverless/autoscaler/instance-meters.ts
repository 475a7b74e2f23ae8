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
