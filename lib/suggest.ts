/**
 * "Did you mean" for names a person typed: the closest candidates by edit distance (Damerau:
 * a swap of two neighbours counts as one edit), as kubectl and git suggest.
 */

/** Edit distance between two strings (insert, delete, substitute, swap neighbours: 1 each). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidates close enough to `word` to be what was meant, closest first: within a third of
 * the word's length in edits (at least 1, at most 3), or starting with it (`ser` → `serverless`).
 * Case is ignored.
 *
 * @example
 *   suggest('scalr', ['scaler', 'ingress'])   // ['scaler']
 */
export function suggest(word: string, candidates: Iterable<string>, max = 3): string[] {
  const w = word.toLowerCase();
  const limit = Math.min(3, Math.max(1, Math.floor(w.length / 3)));
  const scored: { name: string; score: number }[] = [];
  for (const name of new Set(candidates)) {
    const n = name.toLowerCase();
    if (n === w) continue;
    const distance = editDistance(w, n);
    if (distance <= limit) scored.push({ name, score: distance });
    else if (w.length >= 2 && n.startsWith(w)) scored.push({ name, score: limit + 1 });
  }
  return scored
    .sort((a, b) => a.score - b.score || a.name.localeCompare(b.name))
    .slice(0, max)
    .map((s) => s.name);
}

/**
 * ` (did you mean "x"?)`, ` (did you mean "x" or "y"?)`, or '' when nothing is close: to append to
 * an error message.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const close = suggest(word, candidates, 2).map((c) => `"${c}"`);
  return close.length ? ` (did you mean ${close.join(' or ')}?)` : '';
}
