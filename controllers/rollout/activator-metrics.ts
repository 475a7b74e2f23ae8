/**
 * Measures of a function revision from the activator's own counters (its `/metrics`): the share of
 * answers below 500 and latency percentiles, over the window since the previous sample — what
 * `rate()` over an interval gives in Prometheus, without one.
 */

/** A revision's cumulative counters at one moment. */
export interface Snapshot {
  total: number;
  failed: number;
  /** Cumulative histogram buckets: upper bound → count (`+Inf` as Infinity). */
  buckets: Map<number, number>;
}

export type ActivatorMeasure = 'successRate' | 'latencyP50' | 'latencyP90' | 'latencyP95' | 'latencyP99';

const REQUESTS = 'trellis_activator_requests_total';
const DURATION_BUCKET = 'trellis_activator_request_duration_seconds_bucket';

/** One sample line of the text exposition format: name, labels, value (comments and others skipped). */
function* samples(text: string): Generator<{ name: string; labels: Record<string, string>; value: number }> {
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_a, c: string) => (c === 'n' ? '\n' : c));
    yield { name: m[1]!, labels, value: Number(m[4]) };
  }
}

/** The revision's counters in one or more activators' metrics (summed: each activator counts its own requests). */
export function snapshotOf(
  texts: string[],
  series: { namespace: string; function: string; revision: string },
): Snapshot {
  const snap: Snapshot = { total: 0, failed: 0, buckets: new Map() };
  for (const text of texts) {
    for (const s of samples(text)) {
      const l = s.labels;
      if (
        l.namespace !== series.namespace ||
        l.function !== series.function ||
        l.revision !== series.revision ||
        Number.isNaN(s.value)
      )
        continue;
      if (s.name === REQUESTS) {
        snap.total += s.value;
        if (Number(l.code) >= 500) snap.failed += s.value;
      } else if (s.name === DURATION_BUCKET) {
        const le = l.le === '+Inf' ? Infinity : Number(l.le);
        snap.buckets.set(le, (snap.buckets.get(le) ?? 0) + s.value);
      }
    }
  }
  return snap;
}

/**
 * The measure over the window between two snapshots of one revision; `undefined` when the window
 * saw no request (no data). Latency is interpolated within its bucket as `histogram_quantile` does.
 */
export function measureWindow(measure: ActivatorMeasure, before: Snapshot, after: Snapshot): number | undefined {
  const total = after.total - before.total;
  if (total <= 0) return undefined;
  if (measure === 'successRate') return (total - (after.failed - before.failed)) / total;
  const q = Number(measure.slice('latencyP'.length)) / 100;
  const bounds = [...after.buckets.keys()].sort((a, b) => a - b);
  const counts = bounds.map((b) => (after.buckets.get(b) ?? 0) - (before.buckets.get(b) ?? 0));
  const count = counts.at(-1) ?? 0;
  if (count <= 0) return undefined;
  const rank = q * count;
  for (let i = 0; i < bounds.length; i++) {
    if (counts[i]! < rank) continue;
    if (bounds[i] === Infinity) return bounds[i - 1] ?? undefined; // beyond the last finite bucket: its bound, as Prometheus answers
    const lower = i === 0 ? 0 : bounds[i - 1]!;
    const below = i === 0 ? 0 : counts[i - 1]!;
    const inBucket = counts[i]! - below;
    return inBucket > 0 ? lower + ((bounds[i]! - lower) * (rank - below)) / inBucket : bounds[i];
  }
  return undefined;
}
