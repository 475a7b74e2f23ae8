const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * Parses a Go-style duration (`30s`, `5m`, `1h30m`, `250ms`) into milliseconds; `fallbackMs` when
 * `value` is missing or not one.
 *
 * @example
 *   parseDuration('1m30s', 0)   // 90000
 */
export function parseDuration(value: string | undefined, fallbackMs: number): number {
  if (!value) return fallbackMs;
  const parts = [...value.matchAll(/(\d+)(ms|s|m|h)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== value) return fallbackMs;
  return parts.reduce((total, p) => total + Number(p[1]) * UNITS[p[2] as keyof typeof UNITS], 0);
}

/**
 * A duration for people, rounded to whole seconds above a second: `250ms`, `45s`, `2m05s`, `1h10m`.
 *
 * @example
 *   formatDuration(125_000)   // '2m05s'
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
