/**
 * KubeVela's patch strategies (its `sets.StrategyUnify`, documented as "Patch strategy"), for an
 * Application's traits: the patch is unified with the workload, read through the `// +patchKey=…`
 * and `// +patchStrategy=…` comments the native evaluator found in the template (render/'s
 * `PatchTags`).
 *
 * - By default values unify: objects merge key by key, lists **by index** (the patch's first item
 *   with the workload's first, extra items appended), and two different scalars are a conflict.
 * - `+patchKey=name` on a list (or on any field above it: the key is inherited, as KubeVela's walker
 *   inherits it) merges items by that key (a dotted path, `a.b`, reaches inside): an item whose key
 *   matches is unified with it, others are appended in the patch's order, the workload's items stay
 *   where they were. A patch item without the key is dropped; when no item has it, the list unifies by index.
 * - `+patchStrategy=replace` on a list: the patch's list replaces the workload's.
 * - `+patchStrategy=retainKeys` on a field: its value replaces the workload's; on a keyed list, a
 *   matching item replaces the workload's item.
 * - `+patchStrategy=jsonMergePatch` on `patch` itself: the whole patch is an RFC 7396 merge patch
 *   (`null` deletes). `jsonPatch` (RFC 6902 operations) is refused, naming it.
 */
import { TrellisError } from '../lib/errors.js';
import { jsonEqual } from '../lib/equal.js';
import { formatFieldPath, type PathSegment } from '../lib/fieldpath.js';
import { isRecord } from '../lib/is-record.js';
import { cloneJson } from '../lib/clone.js';
import type { PatchTags } from '../render/types.js';
import { ownerKey, type PatchContext } from './patch.js';

/** Where a merge stands in the patch's tags: the tags of the value being merged, and the inherited `patchKey`. */
export interface TagScope {
  node: PatchTags | null | undefined;
  key?: string;
  jsonMergePatch: boolean;
}

/** The scope of a whole patch: refuses `+patchStrategy=jsonPatch`, which Trellis does not run. */
export function patchScope(tags: PatchTags | null | undefined, ctx: PatchContext): TagScope {
  const strategy = tags?.tags?.patchStrategy;
  if (strategy === 'jsonPatch') {
    throw new TrellisError(
      'TRL_RENDER_TEMPLATE',
      `cannot apply trait "${ctx.trait}": its patch uses // +patchStrategy=jsonPatch (RFC 6902 operations), which Trellis does not run; write the patch as fields, or with +patchStrategy=jsonMergePatch`,
      { object: ctx.object, field: ctx.field },
    );
  }
  return { node: tags, ...keyOf(tags), jsonMergePatch: strategy === 'jsonMergePatch' };
}

/** The scope below `path` (field names), carrying the patchKey written above. */
export function scopeAt(scope: TagScope, path: string[]): TagScope {
  let s = scope;
  for (const name of path) {
    const node = s.node?.fields?.[name];
    s = { node, ...(keyOf(node).key ? keyOf(node) : s.key ? { key: s.key } : {}), jsonMergePatch: s.jsonMergePatch };
  }
  return s;
}

function keyOf(node: PatchTags | null | undefined): { key?: string } {
  const key = node?.tags?.patchKey;
  return key ? { key } : {};
}

/** Merges `patch` into `target` (in place) as KubeVela's patch strategies do. */
export function strategicMerge(
  target: Record<string, unknown>,
  patch: Record<string, unknown>,
  scope: TagScope,
  ctx: PatchContext,
  at: PathSegment[] = [],
): void {
  if (scope.jsonMergePatch) return jsonMergePatch(target, patch, ctx, at);
  for (const [name, value] of Object.entries(patch)) {
    const inner = scopeAt(scope, [name]);
    const strategy = inner.node?.tags?.patchStrategy;
    const path = [...at, name];
    const current = target[name];
    const list = Array.isArray(value);
    // retainKeys on a list keeps the list and replaces matching items (mergeByKey).
    if (current === undefined || (strategy === 'retainKeys' && !list) || (strategy === 'replace' && list)) {
      target[name] = cloneJson(value);
      ctx.owners.set(ownerKey(path), ctx.trait);
    } else target[name] = unify(current, value, inner, ctx, path);
  }
}

/** The workload's value unified with the patch's (objects and lists changed in place). */
function unify(current: unknown, value: unknown, scope: TagScope, ctx: PatchContext, path: PathSegment[]): unknown {
  if (isRecord(current) && isRecord(value)) {
    strategicMerge(current, value, scope, ctx, path);
    return current;
  }
  if (Array.isArray(current) && Array.isArray(value)) {
    const key = scope.key ? usableKey(scope.key, value) : undefined;
    if (key === 'keep') return current;
    if (key) mergeByKey(current, value, key, scope, ctx, path);
    else mergeByIndex(current, value, scope, ctx, path);
    return current;
  }
  if (jsonEqual(current, value)) return current;
  const owner = ctx.owners.get(ownerKey(path));
  const had = owner && owner !== ctx.trait ? `trait "${owner}" set it to` : 'the workload has';
  throw new TrellisError(
    'TRL_BIND_PATCH_CONFLICT',
    `trait "${ctx.trait}" sets ${formatFieldPath(path)} to ${JSON.stringify(value)} and ${had} ${JSON.stringify(current)}: ` +
      'a KubeVela patch unifies with the workload (conflicting values); the template needs // +patchStrategy=retainKeys on that field to replace it',
    { object: ctx.object, field: ctx.field },
  );
}

/**
 * The key a keyed list merges by (the first of `a,b` some patch item has), `'keep'` for an empty
 * patch list (nothing to merge), or undefined when no item has a key (KubeVela then unifies by index).
 */
function usableKey(key: string, items: unknown[]): string | 'keep' | undefined {
  if (!items.length) return 'keep';
  return key.split(',').find((k) => items.some((i) => isScalar(keyValue(i, k))));
}

function keyValue(item: unknown, key: string): unknown {
  let cur = item;
  for (const seg of key.split('.')) cur = isRecord(cur) ? cur[seg] : undefined;
  return cur;
}

const isScalar = (v: unknown): v is string | number | boolean =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

function mergeByKey(
  current: unknown[],
  patch: unknown[],
  key: string,
  scope: TagScope,
  ctx: PatchContext,
  path: PathSegment[],
): void {
  const retain = scope.node?.tags?.patchStrategy === 'retainKeys';
  // The last patch item of each key value counts (KubeVela keeps one per key).
  const byKey = new Map<string, number>();
  patch.forEach((item, i) => {
    const v = keyValue(item, key);
    if (isScalar(v)) byKey.set(JSON.stringify(v), i);
  });
  current.forEach((item, j) => {
    const v = keyValue(item, key);
    const i = isScalar(v) ? byKey.get(JSON.stringify(v)) : undefined;
    if (i === undefined) return;
    byKey.delete(JSON.stringify(v));
    const at = [...path, String(v)];
    if (retain) current[j] = cloneJson(patch[i]);
    else current[j] = unify(item, patch[i], itemScope(scope, i), ctx, at);
    ctx.owners.set(ownerKey(at), ctx.trait);
  });
  const added = new Set(byKey.values());
  patch.forEach((item, i) => {
    if (added.has(i)) current.push(cloneJson(item));
  });
}

function mergeByIndex(current: unknown[], patch: unknown[], scope: TagScope, ctx: PatchContext, path: PathSegment[]) {
  patch.forEach((item, i) => {
    if (i < current.length) current[i] = unify(current[i], item, itemScope(scope, i), ctx, [...path, i]);
    else current.push(cloneJson(item));
  });
}

/** A list item's scope: its own tags, the list's patchKey inherited. */
function itemScope(scope: TagScope, i: number): TagScope {
  return { node: scope.node?.items?.[i], ...(scope.key ? { key: scope.key } : {}), jsonMergePatch: false };
}

/** RFC 7396: objects merge, `null` deletes, anything else (lists too) replaces. */
function jsonMergePatch(
  target: Record<string, unknown>,
  patch: Record<string, unknown>,
  ctx: PatchContext,
  at: PathSegment[],
) {
  for (const [name, value] of Object.entries(patch)) {
    const path = [...at, name];
    if (value === null) delete target[name];
    else if (isRecord(value) && isRecord(target[name])) {
      jsonMergePatch(target[name] as Record<string, unknown>, value, ctx, path);
      continue;
    } else target[name] = cloneJson(value);
    ctx.owners.set(ownerKey(path), ctx.trait);
  }
}
