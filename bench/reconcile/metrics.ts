/** Reading the controller's Prometheus text. */

import { sum, type Sample } from '../../lib/metrics-text.js';

export { parseMetrics, sum, type Sample } from '../../lib/metrics-text.js';

/** A quantile of a Prometheus histogram (linear within the bucket, as histogram_quantile does); `Infinity` when it is above the top bucket. */
export function histogramQuantile(samples: Sample[], name: string, match: Record<string, string>, q: number): number {
  const buckets = samples
    .filter((s) => s.name === `${name}_bucket` && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .map((s) => ({ le: s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), count: s.value }))
    .sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  if (!total) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return Infinity;
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / Math.max(1, b.count - prevCount);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

/**
 * `after` minus `before`, sample by sample (same name and labels): the counters and histogram buckets
 * of what happened in between. A sample missing from `before` counts from 0.
 */
export function minus(after: Sample[], before: Sample[]): Sample[] {
  const key = (s: Sample) => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`;
  const was = new Map(before.map((s) => [key(s), s.value]));
  return after.map((s) => ({ ...s, value: s.value - (was.get(key(s)) ?? 0) }));
}

/** Shards owned per replica (`trellis_shard_owned`). */
export const owned = (samples: Sample[]) => samples.filter((x) => x.name === 'trellis_shard_owned' && x.value === 1);
/** Idle: queues empty, nobody reconciling, and (sharded) every shard held, split evenly. */
export function idle(samples: Sample[], replicas: number, shards: number): boolean {
  if (sum(samples, 'workqueue_depth') !== 0 || sum(samples, 'controller_runtime_active_workers') !== 0) return false;
  if (!shards) return true;
  const per = new Map<string, number>();
  for (const o of owned(samples)) per.set(o.labels.replica!, (per.get(o.labels.replica!) ?? 0) + 1);
  return (
    [...per.values()].reduce((a, b) => a + b, 0) === shards &&
    per.size === replicas &&
    [...per.values()].every((n) => n <= Math.ceil(shards / replicas))
  );
}
