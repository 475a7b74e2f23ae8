/**
 * What a template can set, read from its source without evaluating it (cue/source.ts' lexical
 * reader): which fields of `output`, `outputs` and `patch` it may write, and which it fixes to a
 * string literal. Admission decides from this (and the parameter's JSON Schema) without running CUE:
 * the kind a workload renders, whether a trait's patch may touch `spec.replicas` or the pod template,
 * whether two patches may meet.
 *
 * Sound by construction, never exact: whatever the reader cannot follow (an embedding, a dynamic
 * label, a reference, an expression) counts as "anything may be set here".
 */
import { layoutOf, skipBalanced, skipSpaceAndComments, skipString } from '../cue/index.js';
import type { PathSegment } from '../lib/fieldpath.js';

/**
 * One contribution to a field: a struct read further, a string literal, or a value not read — which
 * may be a plain reference (`context.name`; it may stand for a struct, so it is never read further).
 */
type Value =
  | { struct: StructShape; conditional: boolean }
  | { literal: string; conditional: boolean }
  | { opaque: true; ref?: string; conditional: boolean };

const REFERENCE = /^[A-Za-z_$#][A-Za-z0-9_$#]*(\.[A-Za-z_$#][A-Za-z0-9_$#]*)*$/;

/** The fields a struct body declares, each with every contribution to it. */
export interface StructShape {
  fields: Map<string, Value[]>;
  /** Something here was not read (an embedding, a dynamic label, a comprehension): any field may be set. */
  open: boolean;
}

const IDENT_START = /[A-Za-z_$#"]/;

/** The shape of a template (its top level). */
export function templateShape(template: string): StructShape {
  return readStruct(template, false);
}

function readStruct(body: string, conditional: boolean): StructShape {
  const shape: StructShape = { fields: new Map(), open: false };
  const layout = layoutOf(body);
  if (conditional && (layout.packageClause || layout.imports.length)) return { ...shape, open: true };
  for (const decl of layout.decls) {
    const text = body.slice(decl.start, decl.end);
    if (decl.kind === 'let' || decl.kind === 'hidden' || decl.kind === 'definition') continue; // never exported
    if (decl.kind === 'clause') {
      const inner = clauseBody(text);
      if (inner === undefined) shape.open = true;
      else merge(shape, readStruct(inner, true));
      continue;
    }
    if (decl.kind === 'field' && decl.label !== undefined) {
      const value = fieldValue(text);
      if (!value) {
        shape.open = true;
        continue;
      }
      add(shape, decl.label, readValue(value.text, conditional || value.optional));
      continue;
    }
    if (text.trim() === '...') continue; // an open struct: a constraint, it sets nothing
    shape.open = true; // an embedding, a dynamic label, an alias
  }
  return shape;
}

function add(shape: StructShape, label: string, value: Value): void {
  shape.fields.set(label, [...(shape.fields.get(label) ?? []), value]);
}

/** Folds what a comprehension's body may set into the enclosing struct (every contribution conditional). */
function merge(into: StructShape, from: StructShape): void {
  into.open ||= from.open;
  for (const [label, values] of from.fields) for (const v of values) add(into, label, v);
}

/** `label: value`, `label?: value`, `"label": value`: the value's text; `undefined` when the text is not that. */
function fieldValue(text: string): { text: string; optional: boolean } | undefined {
  let i = 0;
  if (text[0] === '"') i = skipString(text, 0);
  else while (i < text.length && /[A-Za-z0-9_$#]/.test(text[i]!)) i++;
  i = skipSpaceAndComments(text, i);
  const optional = text[i] === '?' || text[i] === '!';
  if (optional) i = skipSpaceAndComments(text, i + 1);
  if (text[i] !== ':') return undefined;
  return { text: text.slice(i + 1), optional };
}

/** `if a {…}`, `for k, v in x if y {…}`: the text inside the body's braces, when the clause ends with one. */
function clauseBody(text: string): string | undefined {
  let i = 0;
  let last: { start: number; end: number } | undefined;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"' || c === "'") {
      i = skipString(text, i);
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') {
      const end = skipBalanced(text, i);
      if (c === '{') last = { start: i, end };
      i = end;
      continue;
    }
    i++;
  }
  if (!last || text.slice(last.end).trim() !== '') return undefined;
  return text.slice(last.start + 1, last.end - 1);
}

/** A field's value: `{…}` read as a struct, `b: c` as a struct of one field, a lone string literal, else opaque. */
function readValue(raw: string, conditional: boolean): Value {
  const start = skipSpaceAndComments(raw, 0);
  const rest = (from: number) => raw.slice(skipSpaceAndComments(raw, from)).trim() === '';
  if (raw[start] === '{') {
    const end = skipBalanced(raw, start);
    if (rest(end)) return { struct: readStruct(raw.slice(start + 1, end - 1), conditional), conditional };
    return { opaque: true, conditional };
  }
  if (raw[start] === '"' && !raw.startsWith('"""', start)) {
    const end = skipString(raw, start);
    const literal = raw.slice(start, end);
    if (rest(end) && !literal.includes('\\(')) {
      try {
        return { literal: JSON.parse(literal) as string, conditional };
      } catch {
        return { opaque: true, conditional };
      }
    }
  }
  if (IDENT_START.test(raw[start] ?? '') && fieldValue(raw.slice(start).trim())) {
    // A label chain (`spec: replicas: x`): the rest is one declaration of a struct.
    const inner = readStruct(raw.slice(start), conditional);
    if (inner.fields.size === 1 && !inner.open) return { struct: inner, conditional };
  }
  const text = raw
    .replace(/\/\/[^\n]*/g, '')
    .trim()
    .replace(/,$/, '')
    .trim();
  if (REFERENCE.test(text)) return { opaque: true, ref: text, conditional };
  return { opaque: true, conditional };
}

/** The string a field is fixed to whatever the inputs (`output.kind: "Deployment"`), if the template fixes it unconditionally. */
export function fixedString(shape: StructShape, path: string[]): string | undefined {
  return fixed(shape, path, (v) => ('literal' in v ? v.literal : undefined));
}

/**
 * The plain reference a field is set to unconditionally (`metadata: name: context.name` →
 * `"context.name"`), when that is its only contribution: its value is then whatever the reference is.
 */
export function fixedReference(shape: StructShape, path: string[]): string | undefined {
  return fixed(shape, path, (v) => ('ref' in v ? v.ref : undefined), true);
}

function fixed(
  shape: StructShape,
  path: string[],
  leaf: (v: Value) => string | undefined,
  only = false,
): string | undefined {
  const [head, ...tail] = path;
  if (head === undefined) return undefined;
  const found = new Set<string>();
  const values = shape.fields.get(head) ?? [];
  if (only && (values.length !== 1 || shape.open)) return undefined;
  for (const v of values) {
    if (v.conditional) continue;
    const value = tail.length ? ('struct' in v ? fixed(v.struct, tail, leaf, only) : undefined) : leaf(v);
    if (value !== undefined) found.add(value);
  }
  // Two different values would be a conflict: no value at all.
  return found.size === 1 ? [...found][0] : undefined;
}

/**
 * Every path under `path` that the template may set: the leaves it writes, and the places where
 * anything may be written (a value not read, an open struct). `[]` relative to `path` means all of it;
 * no paths at all means it never sets anything there.
 */
export function mayWrite(shape: StructShape, path: string[] = []): PathSegment[][] {
  if (!path.length) return leaves(shape, []);
  if (shape.open) return [[]];
  const [head, ...tail] = path;
  return (shape.fields.get(head!) ?? []).flatMap((v) => ('struct' in v ? mayWrite(v.struct, tail) : [[]]));
}

function leaves(shape: StructShape, at: string[]): string[][] {
  if (shape.open) return [at];
  return [...shape.fields.entries()].flatMap(([label, values]) =>
    values.flatMap((v) => ('struct' in v ? leaves(v.struct, [...at, label]) : [[...at, label]])),
  );
}

/** Whether two sets of written paths may meet: one path is a prefix of (or equal to) another. */
export function pathsOverlap(a: PathSegment[][], b: PathSegment[][]): boolean {
  const prefix = (p: PathSegment[], q: PathSegment[]) => p.length <= q.length && p.every((s, i) => s === q[i]);
  return a.some((p) => b.some((q) => prefix(p, q) || prefix(q, p)));
}
