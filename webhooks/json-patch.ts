import { jsonEqual } from '../lib/equal.js';
import { isRecord } from '../lib/is-record.js';

/** One RFC 6902 operation; the API server applies these to the object under review. */
export type JsonPatchOperation =
  { op: 'add' | 'replace'; path: string; value: unknown } | { op: 'remove'; path: string };

/** RFC 6901: `~` → `~0`, `/` → `~1` (label keys such as `trellis.dev/type` contain slashes). */
export function pointer(segments: (string | number)[]): string {
  return segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/**
 * The operations that turn `before` into `after`. Objects are compared key by key; arrays of equal
 * length element by element, otherwise replaced whole (the API server's JSON Patch has no move
 * semantics we need).
 *
 * @example
 *   diffPatch({ a: 1 }, { a: 2, b: { c: true } })
 *   // → [{ op: 'replace', path: '/a', value: 2 }, { op: 'add', path: '/b', value: { c: true } }]
 */
export function diffPatch(before: unknown, after: unknown, at: (string | number)[] = []): JsonPatchOperation[] {
  if (isRecord(before) && isRecord(after)) {
    const ops: JsonPatchOperation[] = [];
    for (const key of Object.keys(before)) {
      if (!(key in after) || after[key] === undefined) ops.push({ op: 'remove', path: pointer([...at, key]) });
    }
    for (const [key, value] of Object.entries(after)) {
      if (value === undefined) continue;
      if (!(key in before) || before[key] === undefined) ops.push({ op: 'add', path: pointer([...at, key]), value });
      else ops.push(...diffPatch(before[key], value, [...at, key]));
    }
    return ops;
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((item, i) => diffPatch(item, after[i], [...at, i]));
  }
  if (jsonEqual(before, after)) return [];
  return [{ op: 'replace', path: pointer(at), value: after }];
}

/** Applies operations produced by {@link diffPatch} (add/replace/remove) to a deep copy of `doc`. */
export function applyPatch<T>(doc: T, ops: JsonPatchOperation[]): T {
  const root = { '': structuredClone(doc) } as Record<string, unknown>;
  for (const op of ops) {
    const segments = [
      '',
      ...op.path
        .split('/')
        .slice(1)
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')),
    ];
    const last = segments.pop()!;
    let parent: unknown = root;
    for (const s of segments) parent = (parent as Record<string, unknown>)[s];
    const container = parent as Record<string, unknown> | unknown[];
    if (Array.isArray(container)) {
      const index = last === '-' ? container.length : Number(last);
      if (op.op === 'remove') container.splice(index, 1);
      else if (op.op === 'add') container.splice(index, 0, op.value);
      else container[index] = op.value;
    } else if (op.op === 'remove') delete container[last];
    else container[last] = op.value;
  }
  return root[''] as T;
}
