/** Reading Prometheus' text exposition format (the samples; comments and types are skipped). */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of the samples of `name` whose labels match (`method` may be a regex). */
export function sum(samples: Sample[], name: string, match: Record<string, string | RegExp> = {}): number {
  return samples
    .filter(
      (s) =>
        s.name === name &&
        Object.entries(match).every(([k, v]) =>
          typeof v === 'string' ? s.labels[k] === v : v.test(s.labels[k] ?? ''),
        ),
    )
    .reduce((a, s) => a + s.value, 0);
}
