/**
 * Field paths as upstream OAM writes them (crossplane's fieldpath): `spec.containers[0].image`,
 * `metadata.labels["app.oam.dev/name"]`. Used by Component parameters, dataOutputs/dataInputs and
 * definitions' `workloadRefPath`.
 */
import { TrellisError } from './errors.js';

export type PathSegment = string | number;

/** Parses a field path into segments; throws TRL_FIELD_PATH on malformed input. */
export function parseFieldPath(path: string): PathSegment[] {
  const segments: PathSegment[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new TrellisError('TRL_FIELD_PATH', `invalid field path ${JSON.stringify(path)}: ${why}`);
  };
  if (!path) fail('it is empty');
  while (i < path.length) {
    if (path[i] === '[') {
      const close = path.indexOf(']', i);
      if (close < 0) fail('unclosed "["');
      const inner = path.slice(i + 1, close).trim();
      if (/^\d+$/.test(inner)) segments.push(Number(inner));
      else if (/^(["']).*\1$/.test(inner)) segments.push(inner.slice(1, -1));
      else fail(`"[${inner}]" is neither an index nor a quoted key`);
      i = close + 1;
      if (path[i] === '.') i++;
      continue;
    }
    let j = i;
    while (j < path.length && path[j] !== '.' && path[j] !== '[') j++;
    if (j === i) fail(`empty segment at ${i}`);
    segments.push(path.slice(i, j));
    i = j;
    if (path[i] === '.') {
      i++;
      if (i === path.length) fail('it ends with "."');
    }
  }
  return segments;
}

/** Formats segments back into a path: `['spec', 'containers', 0, 'image']` → `spec.containers[0].image`. */
export function formatFieldPath(segments: PathSegment[]): string {
  return segments
    .map((s, i) =>
      typeof s === 'number'
        ? `[${s}]`
        : /^[A-Za-z_$][\w$-]*$/.test(s)
          ? `${i ? '.' : ''}${s}`
          : `[${JSON.stringify(s)}]`,
    )
    .join('');
}

/** The value at a path, or `undefined` when any part of it is missing. */
export function getFieldPath(obj: unknown, path: string | PathSegment[]): unknown {
  let cur = obj;
  for (const seg of typeof path === 'string' ? parseFieldPath(path) : path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/**
 * Writes a value at a path, creating objects and arrays on the way (an index segment creates an
 * array). Throws TRL_FIELD_PATH when the path runs through a scalar.
 */
export function setFieldPath(obj: Record<string, unknown>, path: string | PathSegment[], value: unknown): void {
  const segments = typeof path === 'string' ? parseFieldPath(path) : path;
  let cur: Record<string | number, unknown> = obj;
  segments.forEach((seg, n) => {
    if (n === segments.length - 1) {
      cur[seg] = value;
      return;
    }
    let next = cur[seg];
    if (next === undefined || next === null) {
      next = typeof segments[n + 1] === 'number' ? [] : {};
      cur[seg] = next;
    }
    if (typeof next !== 'object') {
      throw new TrellisError(
        'TRL_FIELD_PATH',
        `cannot set ${formatFieldPath(segments)}: ${formatFieldPath(segments.slice(0, n + 1))} is ${JSON.stringify(next)}, not an object`,
      );
    }
    cur = next as Record<string | number, unknown>;
  });
}

/** Removes the value at a path (a no-op when it is missing). */
export function deleteFieldPath(obj: unknown, path: string | PathSegment[]): void {
  const segments = typeof path === 'string' ? parseFieldPath(path) : path;
  const parent = getFieldPath(obj, segments.slice(0, -1));
  if (parent && typeof parent === 'object')
    delete (parent as Record<string | number, unknown>)[segments[segments.length - 1]];
}
