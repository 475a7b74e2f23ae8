import { isRecord } from '../lib/is-record.js';
import type { PathSegment } from '../lib/fieldpath.js';

/** One leaf of a JSON value: its path in apply/diff.ts' notation (`spec.containers[0].image`), segments, value. */
export interface Leaf {
  path: string;
  segments: PathSegment[];
  value: unknown;
}

/** `parent.key` / `parent[3]`: the notation of apply/diff.ts, so provenance and diffs meet on the same strings. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent ? `${parent}.${key}` : key;
}

/**
 * Every leaf (scalar, null, empty object or array) of a JSON value, depth first.
 *
 * @example
 *   leaves({ a: { b: [1] } }) // [{ path: 'a.b[0]', segments: ['a', 'b', 0], value: 1 }]
 */
export function leaves(value: unknown): Leaf[] {
  const out: Leaf[] = [];
  const walk = (v: unknown, path: string, segments: PathSegment[]) => {
    if (isRecord(v) && Object.keys(v).length) {
      for (const [k, child] of Object.entries(v)) walk(child, childPath(path, k), [...segments, k]);
    } else if (Array.isArray(v) && v.length) {
      v.forEach((child, i) => walk(child, childPath(path, i), [...segments, i]));
    } else out.push({ path, segments, value: v });
  };
  walk(value, '', []);
  return out;
}
