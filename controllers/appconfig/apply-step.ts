import { applyRank, entryKey, entryOf, type InventoryEntry } from '../../apply/index.js';
import { describeRef, type KubeClient, type KubeObject } from '../../kube/index.js';
import { TrellisError, messageOf } from '../../lib/errors.js';
import { FIELD_MANAGER } from '../field-managers.js';
import { upToDate } from './desired.js';

export interface ApplyResult {
  /** Every object now in the cluster as rendered (applied, or already up to date). */
  entries: InventoryEntry[];
  created: string[];
  updated: string[];
}

/** Runs `fn` over `items` with at most `limit` at once; rejects with the first failure after all settle. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw failure;
}

/**
 * Server-side applies `objects` (already prepared: owner, mark, hash) with the Trellis field
 * manager, rank by rank (namespaces and CRDs before what uses them, apply/'s order), objects of one
 * rank concurrently. Objects whose live copy is {@link upToDate} are not written at all — an
 * unchanged re-sync issues no writes. A rejection becomes TRL_APPLY_REJECTED naming the object.
 */
export async function applyObjects(kube: KubeClient, objects: KubeObject[], live: (obj: KubeObject) => KubeObject | undefined, concurrency = 8): Promise<ApplyResult> {
  const result: ApplyResult = { entries: objects.map(entryOf), created: [], updated: [] };
  const ranks = [...new Set(objects.map(applyRank))].sort((a, b) => a - b);
  for (const rank of ranks) {
    await eachLimited(
      objects.filter((o) => applyRank(o) === rank),
      concurrency,
      async (obj) => {
        const current = live(obj);
        if (upToDate(obj, current)) return;
        try {
          await kube.apply(obj, { fieldManager: FIELD_MANAGER, force: true });
        } catch (err) {
          throw new TrellisError('TRL_APPLY_REJECTED', messageOf(err), { object: describeRef(obj), cause: err });
        }
        (current ? result.updated : result.created).push(`${obj.kind}/${obj.metadata.name}`);
      },
    );
  }
  return result;
}

/** `previous` ∪ `next`, by identity, in that order. */
export function unionEntries(previous: InventoryEntry[], next: InventoryEntry[]): InventoryEntry[] {
  const seen = new Set(previous.map(entryKey));
  return [...previous, ...next.filter((e) => !seen.has(entryKey(e)))];
}
