/** Small formatting helpers shared by the pages. */

/** `3m`, `2h`, `5d`: how long ago a timestamp was (the column kubectl calls AGE); `-` without one. */
export function age(timestamp: string | undefined, now = Date.now()): string {
  if (!timestamp) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(timestamp)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

/** A JSON value on one line, as a diff or provenance table shows it (`-` when absent). */
export function showValue(value: unknown): string {
  return value === undefined ? '-' : JSON.stringify(value);
}

/** The first 7 characters of a commit. */
export const shortCommit = (commit: string | undefined): string => (commit ? commit.slice(0, 7) : '-');

export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
