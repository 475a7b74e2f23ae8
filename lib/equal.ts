/**
 * Deep equality of JSON data (objects, arrays, strings, numbers, booleans, null), independent of
 * key order: `{a: 1, b: 2}` equals `{b: 2, a: 1}`, as the API server, YAML and CUE consider them —
 * `JSON.stringify(a) === JSON.stringify(b)` does not, and reported false conflicts and changes.
 * Arrays compare in order. A key whose value is `undefined` counts as absent (as in JSON).
 *
 * @example
 *   jsonEqual({ limits: { cpu: '1', memory: '1Gi' } }, { limits: { memory: '1Gi', cpu: '1' } })   // true
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => jsonEqual(item, other[i]));
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x).filter((k) => x[k] !== undefined);
  if (keys.length !== Object.keys(y).filter((k) => y[k] !== undefined).length) return false;
  return keys.every((k) => Object.hasOwn(y, k) && jsonEqual(x[k], y[k]));
}
