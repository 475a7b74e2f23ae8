import { isNotFound, type KubeClient } from '../kube/index.js';
import type { KubeObject } from '../kube/types.js';
import { mapLimit } from '../lib/map-limit.js';
import { removedEntries, type InventoryEntry } from './inventory.js';
import { ANNOTATION_OWNER, ownerId, type Owner } from './labels.js';
import { sortForApply } from './order.js';
import { releasePatch } from './shared.js';

export interface PrunedObject {
  ref: InventoryEntry;
  /**
   * `deleted`; `gone` (already absent); `skipped` (no longer carries this owner's mark — someone else's
   * now); `released` (shared with others, see shared.ts: this owner let go of it, the others keep it).
   */
  action: 'deleted' | 'gone' | 'skipped' | 'released';
}

export interface OrphanedObject {
  ref: InventoryEntry;
  /** `orphaned` (its owner mark removed, the object left in place); `gone`; `skipped` (not this owner's). */
  action: 'orphaned' | 'gone' | 'skipped';
}

/** The live object, or undefined when it (or its kind) is gone. */
async function liveOrGone(kube: KubeClient, ref: InventoryEntry): Promise<KubeObject | undefined> {
  try {
    return await kube.getOrNull(ref);
  } catch (err) {
    if ((err as { reason?: string }).reason === 'NoKindMatch') return undefined;
    throw err;
  }
}

/**
 * Deletes what `previous` has and `current` lacks, in reverse dependency order, if it still
 * carries this owner's mark and no one else shares it (shared objects are released: see
 * {@link releasePatch}) — with a uid precondition, so an object replaced in between is left
 * alone. Kinds no longer served count as gone.
 */
export async function pruneEntries(
  kube: KubeClient,
  previous: InventoryEntry[],
  current: InventoryEntry[],
  owner: Owner,
): Promise<PrunedObject[]> {
  const id = ownerId(owner);
  const results: PrunedObject[] = [];
  for (const ref of sortForApply(removedEntries(previous, current)).reverse()) {
    const live = await liveOrGone(kube, ref);
    if (!live) {
      results.push({ ref, action: 'gone' });
      continue;
    }
    const release = releasePatch(live, owner);
    if (release) {
      results.push({ ref, action: await releaseShared(kube, ref, release) });
      continue;
    }
    if (live.metadata.annotations?.[ANNOTATION_OWNER] !== id) {
      results.push({ ref, action: 'skipped' });
      continue;
    }
    const deleted = await kube.delete(ref, { preconditions: { uid: live.metadata.uid! } }).catch((err: unknown) => {
      // 409: it was replaced by another object of the same name in between — not ours to delete.
      if ((err as { statusCode?: number }).statusCode === 409) return false;
      throw err;
    });
    results.push({ ref, action: deleted ? 'deleted' : 'gone' });
  }
  return results;
}

/** Applies a {@link releasePatch}; an object changed or deleted in between is left to the next prune. */
async function releaseShared(kube: KubeClient, ref: InventoryEntry, patch: object[]): Promise<PrunedObject['action']> {
  try {
    await kube.patch(ref, patch, 'json');
    return 'released';
  } catch (err) {
    if (isNotFound(err)) return 'gone';
    throw err; // a failed resourceVersion test (422) included: retried with the reconcile
  }
}

/**
 * Lets go of objects without deleting them: removes this owner's mark from every entry that still
 * carries it, so no later prune (of this owner or one of the same name) treats them as its own. The
 * removal is one JSON patch that first tests the object's uid and the mark, so an object replaced or
 * taken over in between is left alone. Kinds no longer served count as gone.
 */
export async function orphanEntries(
  kube: KubeClient,
  entries: InventoryEntry[],
  owner: Owner,
  concurrency: number,
): Promise<OrphanedObject[]> {
  const id = ownerId(owner);
  const markPath = `/metadata/annotations/${ANNOTATION_OWNER.replaceAll('~', '~0').replaceAll('/', '~1')}`;
  return mapLimit(entries, concurrency, async (ref): Promise<OrphanedObject> => {
    const live = await liveOrGone(kube, ref);
    if (!live) return { ref, action: 'gone' };
    if (live.metadata.annotations?.[ANNOTATION_OWNER] !== id) return { ref, action: 'skipped' };
    const patch = [
      { op: 'test', path: '/metadata/uid', value: live.metadata.uid },
      { op: 'test', path: markPath, value: id },
      { op: 'remove', path: markPath },
    ];
    try {
      await kube.patch(ref, patch, 'json');
      return { ref, action: 'orphaned' };
    } catch (err) {
      if (isNotFound(err)) return { ref, action: 'gone' };
      // A failed `test` (422): replaced or taken over in between — not ours any more. Any other
      // refusal (RBAC, admission) is the caller's to see.
      const now = await kube.getOrNull(ref);
      if (!now) return { ref, action: 'gone' };
      if (now.metadata.uid !== live.metadata.uid || now.metadata.annotations?.[ANNOTATION_OWNER] !== id)
        return { ref, action: 'skipped' };
      throw err;
    }
  });
}

/**
 * Lets go of every shared object among `entries` (see {@link releasePatch}), for an owner about to be
 * deleted: the others keep them, its name and owner reference leave them, what it holds passes on.
 * Objects it alone has are left to the garbage collector (its owner references). Returns the released.
 */
export async function releaseEntries(
  kube: KubeClient,
  entries: InventoryEntry[],
  owner: Owner,
  concurrency: number,
): Promise<InventoryEntry[]> {
  const released = await mapLimit(entries, concurrency, async (ref) => {
    const live = await liveOrGone(kube, ref);
    const patch = live && releasePatch(live, owner);
    return patch && (await releaseShared(kube, ref, patch)) === 'released' ? [ref] : [];
  });
  return released.flat();
}
