/**
 * Patch traits (the template's `patch`): merged into the workload in AppConfig order. Objects merge
 * key by key; lists whose items all have a `name` (containers, env, volumes, ports) merge item by
 * item; `null` removes the field (as a JSON merge patch does: KubeVela's `labels` trait deletes a
 * label so); anything else is replaced. Two traits setting one field to different values is an error,
 * not a silent last-wins.
 */
import { jsonEqual } from '../lib/equal.js';
import { TrellisError } from '../lib/errors.js';
import { formatFieldPath, type PathSegment } from '../lib/fieldpath.js';
import { isRecord } from '../lib/is-record.js';

/** The key list items merge by: `mountPath` for volumeMounts (one volume may be mounted twice), else `name`. */
const mergeKey = (list: string): string => (list === 'volumeMounts' ? 'mountPath' : 'name');
const isKeyedList = (v: unknown, key: string): v is Record<string, unknown>[] =>
  Array.isArray(v) && v.every((i) => isRecord(i) && typeof i[key] === 'string');

export interface PatchContext {
  /** The trait patching, for messages. */
  trait: string;
  /** Which trait set each field so far (by formatted path). */
  owners: Map<string, string>;
  object: string;
  field: string;
}

/** How {@link PatchContext.owners} keys a field path. */
export function ownerKey(path: PathSegment[]): string {
  return path.join('\u0000');
}

/** Merges `patch` into `target` (in place) at `at`. */
export function mergePatch(
  target: Record<string, unknown>,
  patch: Record<string, unknown>,
  ctx: PatchContext,
  at: PathSegment[] = [],
): void {
  for (const [key, value] of Object.entries(patch)) {
    const path = [...at, key];
    const current = target[key];
    if (value === null) {
      delete target[key];
      ctx.owners.set(ownerKey(path), ctx.trait);
    } else if (isRecord(value) && isRecord(current)) {
      mergePatch(current, value, ctx, path);
    } else if (isKeyedList(value, mergeKey(key)) && (current === undefined || isKeyedList(current, mergeKey(key)))) {
      const k = mergeKey(key);
      const list = (current ?? []) as Record<string, unknown>[];
      value.forEach((item) => {
        const found = list.findIndex((i) => i[k] === item[k]);
        if (found < 0) {
          list.push(structuredClone(item));
          ctx.owners.set(ownerKey([...path, String(item[k])]), ctx.trait);
        } else mergePatch(list[found], item, ctx, [...path, String(item[k])]);
      });
      target[key] = list;
    } else {
      const id = ownerKey(path);
      const owner = ctx.owners.get(id);
      if (owner && owner !== ctx.trait && !jsonEqual(current, value)) {
        throw new TrellisError(
          'TRL_BIND_PATCH_CONFLICT',
          `traits "${owner}" and "${ctx.trait}" both set ${formatFieldPath(path)} of the workload, to ${JSON.stringify(current)} and ${JSON.stringify(value)}`,
          {
            object: ctx.object,
            field: ctx.field,
          },
        );
      }
      target[key] = structuredClone(value);
      ctx.owners.set(id, ctx.trait);
    }
  }
}

/** Whether a patch writes anything under the given path prefix. */
export function patchTouches(patch: Record<string, unknown>, prefix: string[]): boolean {
  let cur: unknown = patch;
  for (const seg of prefix) {
    if (!isRecord(cur) || !(seg in cur)) return false;
    cur = cur[seg];
  }
  return true;
}
