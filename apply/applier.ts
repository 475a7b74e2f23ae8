import { isForbidden, isNotFound, type KubeClient } from '../kube/index.js';
import { describeRef, refOf, type KubeObject } from '../kube/types.js';
import { TrellisError, messageOf } from '../lib/errors.js';
import { mapLimit } from '../lib/map-limit.js';
import { diffObjects, type FieldChange } from './diff.js';
import { entryKey, entryOf, removedEntries, type InventoryEntry } from './inventory.js';
import { ANNOTATION_OWNER } from '../apis/labels.js';
import { ownerId, type Owner } from './labels.js';
import { applyRank, sortForApply } from './order.js';

/** Same-kind groups at least this large are listed once instead of read object by object. */
const PREFETCH_MIN = 16;

export interface AppliedObject {
  ref: InventoryEntry;
  /** `created` / `configured` / `unchanged` (by resourceVersion before and after). */
  action: 'created' | 'configured' | 'unchanged';
  object: KubeObject;
}

export interface PlannedObject {
  ref: InventoryEntry;
  action: 'create' | 'update' | 'unchanged' | 'prune';
  /** Field changes (create: every field; prune: none). */
  changes: FieldChange[];
}

export interface RejectedObject {
  ref: InventoryEntry;
  /** The API server's reason (validation, admission webhook or policy). */
  message: string;
  /** `true` when RBAC refused it (HTTP 403): the identity applying may not write it. */
  forbidden: boolean;
}

export interface PrunedObject {
  ref: InventoryEntry;
  /** `deleted`; `gone` (already absent); `skipped` (no longer carries this owner's mark — someone else's now). */
  action: 'deleted' | 'gone' | 'skipped';
}

export interface OrphanedObject {
  ref: InventoryEntry;
  /** `orphaned` (its owner mark removed, the object left in place); `gone`; `skipped` (not this owner's). */
  action: 'orphaned' | 'gone' | 'skipped';
}

export interface ApplierOptions {
  kube: KubeClient;
  /** Server-side apply field manager. @default the client's */
  fieldManager?: string;
  /** Objects of one apply rank (see order.ts) sent at once; ranks still go one after another. @default 1 */
  concurrency?: number;
}

/**
 * Applies sets of objects for an owner with server-side apply and prunes what the owner applied
 * before but no longer renders. Every applied object is marked with the owner
 * ({@link ANNOTATION_OWNER}); prune deletes only objects that still carry that mark, with a uid
 * precondition, so nothing Trellis did not create — or that changed hands — is ever deleted.
 *
 * @example
 *   const applier = new Applier({ kube, fieldManager: 'trellis' })
 *   const applied = await applier.apply(objects, owner)
 *   await applier.prune(previousInventory, applied.map((a) => a.ref), owner)
 */
export class Applier {
  private readonly kube: KubeClient;
  private readonly fieldManager: string;
  private readonly concurrency: number;

  constructor(options: ApplierOptions) {
    this.kube = options.kube;
    this.fieldManager = options.fieldManager ?? options.kube.fieldManager;
    this.concurrency = Math.max(1, options.concurrency ?? 1);
  }

  /** The objects with the owner's mark added. */
  mark(objects: KubeObject[], owner: Owner): KubeObject[] {
    const id = ownerId(owner);
    return objects.map((o) => ({ ...o, metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, [ANNOTATION_OWNER]: id } } }));
  }

  /**
   * Applies in dependency order (CRDs and definitions first; CRDs are waited for until served).
   * Fails on the first rejected object with an error naming it and the server's reason; objects
   * before it stay applied.
   */
  async apply(objects: KubeObject[], owner: Owner): Promise<AppliedObject[]> {
    const results: AppliedObject[] = [];
    for (const rank of byRank(sortForApply(this.mark(objects, owner)))) {
      const versions = await this.prefetchVersions(rank);
      results.push(...(await mapLimit(rank, this.concurrency, (obj) => this.applyOne(obj, versions))));
    }
    return results;
  }

  /**
   * The resourceVersion of every object of the larger same-kind groups (null: absent), from one
   * list per group instead of a get per object. Groups that cannot be listed are left out (their
   * objects are read one by one).
   */
  private async prefetchVersions(objects: KubeObject[]): Promise<Map<string, string | null>> {
    const groups = new Map<string, KubeObject[]>();
    for (const o of objects) {
      const key = `${o.apiVersion}|${o.kind}|${o.metadata.namespace ?? ''}`;
      groups.set(key, [...(groups.get(key) ?? []), o]);
    }
    const versions = new Map<string, string | null>();
    for (const group of groups.values()) {
      if (group.length < PREFETCH_MIN) continue;
      const { apiVersion, kind, metadata } = group[0]!;
      const listed = await this.kube.list(apiVersion, kind, metadata.namespace ? { namespace: metadata.namespace } : {}).catch(() => undefined);
      if (!listed) continue;
      const live = new Map(listed.items.map((o) => [o.metadata.name, o.metadata.resourceVersion ?? '']));
      for (const o of group) versions.set(entryKey(entryOf(o)), live.get(o.metadata.name) ?? null);
    }
    return versions;
  }

  private async applyOne(obj: KubeObject, versions: Map<string, string | null>): Promise<AppliedObject> {
    const key = entryKey(entryOf(obj));
    const before = versions.has(key) ? versions.get(key) : (await this.kube.getOrNull(refOf(obj)).catch(() => undefined))?.metadata.resourceVersion;
    let after: KubeObject;
    try {
      after = await this.kube.apply(obj, { fieldManager: this.fieldManager });
    } catch (err) {
      throw new TrellisError('TRL_APPLY_REJECTED', messageOf(err), { object: describeRef(obj), cause: err });
    }
    if (obj.kind === 'CustomResourceDefinition') await this.waitForCrd(obj.metadata.name!);
    const action = !before ? 'created' : before === after.metadata.resourceVersion ? 'unchanged' : 'configured';
    return { ref: entryOf(obj), action, object: after };
  }

  /**
   * Server-side dry runs of every object (validation, admission webhooks and policies all run);
   * returns every rejection, not just the first. Objects whose kind is not served yet are skipped
   * when `skipUnserved` says so (their CRD is part of the same set). Changes nothing.
   */
  async validate(objects: KubeObject[], owner: Owner, skipUnserved: (obj: KubeObject) => boolean = () => false): Promise<RejectedObject[]> {
    const rejected: RejectedObject[] = [];
    await mapLimit(this.mark(objects, owner), this.concurrency, async (obj) => {
      try {
        await this.kube.apply(obj, { fieldManager: this.fieldManager, dryRun: true });
      } catch (err) {
        if (isNotFound(err) && skipUnserved(obj)) return;
        rejected.push({ ref: entryOf(obj), message: messageOf(err), forbidden: isForbidden(err) });
      }
    });
    return rejected;
  }

  /** What {@link apply} and {@link prune} would do, from server-side dry runs; changes nothing. */
  async plan(objects: KubeObject[], previous: InventoryEntry[], owner: Owner): Promise<PlannedObject[]> {
    const out: PlannedObject[] = [];
    for (const obj of sortForApply(this.mark(objects, owner))) {
      const before = await this.kube.getOrNull(refOf(obj));
      let after: KubeObject;
      try {
        after = before || obj.kind !== 'CustomResourceDefinition' ? await this.kube.apply(obj, { fieldManager: this.fieldManager, dryRun: true }) : obj;
      } catch (err) {
        if (!isNotFound(err)) throw new TrellisError('TRL_APPLY_REJECTED', messageOf(err), { object: describeRef(obj), cause: err });
        after = obj; // its CRD is part of this plan and not installed yet
      }
      const changes = diffObjects(before, after);
      out.push({ ref: entryOf(obj), action: !before ? 'create' : changes.length ? 'update' : 'unchanged', changes });
    }
    const current = objects.map(entryOf);
    for (const ref of removedEntries(previous, current)) {
      const live = await this.kube.getOrNull(ref).catch(() => undefined);
      if (live?.metadata.annotations?.[ANNOTATION_OWNER] === ownerId(owner)) out.push({ ref, action: 'prune', changes: [] });
    }
    return out;
  }

  /**
   * Deletes what `previous` has and `current` lacks, in reverse dependency order, if it still
   * carries this owner's mark. Kinds no longer served count as gone.
   */
  async prune(previous: InventoryEntry[], current: InventoryEntry[], owner: Owner): Promise<PrunedObject[]> {
    const id = ownerId(owner);
    const results: PrunedObject[] = [];
    const removed = sortForApply(removedEntries(previous, current)).reverse();
    for (const ref of removed) {
      let live: KubeObject | undefined;
      try {
        live = await this.kube.getOrNull(ref);
      } catch (err) {
        if ((err as { reason?: string }).reason === 'NoKindMatch') live = undefined;
        else throw err;
      }
      if (!live) {
        results.push({ ref, action: 'gone' });
        continue;
      }
      if (live.metadata.annotations?.[ANNOTATION_OWNER] !== id) {
        results.push({ ref, action: 'skipped' });
        continue;
      }
      const deleted = await this.kube.delete(ref, { preconditions: { uid: live.metadata.uid! } }).catch((err: unknown) => {
        // 409: it was replaced by another object of the same name in between — not ours to delete.
        if ((err as { statusCode?: number }).statusCode === 409) return false;
        throw err;
      });
      results.push({ ref, action: deleted ? 'deleted' : 'gone' });
    }
    return results;
  }

  /**
   * Lets go of objects without deleting them: removes this owner's mark from every entry that
   * still carries it, so no later prune (of this owner or one of the same name) treats them as
   * its own. The removal is one JSON patch that first tests the object's uid and the mark, so an
   * object replaced or taken over in between is left alone. Kinds no longer served count as gone.
   */
  async orphan(entries: InventoryEntry[], owner: Owner): Promise<OrphanedObject[]> {
    const id = ownerId(owner);
    const markPath = `/metadata/annotations/${ANNOTATION_OWNER.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    return mapLimit(entries, this.concurrency, async (ref): Promise<OrphanedObject> => {
      const live = await this.kube.getOrNull(ref).catch((err: unknown) => {
        if ((err as { reason?: string }).reason === 'NoKindMatch') return undefined;
        throw err;
      });
      if (!live) return { ref, action: 'gone' };
      if (live.metadata.annotations?.[ANNOTATION_OWNER] !== id) return { ref, action: 'skipped' };
      const patch = [
        { op: 'test', path: '/metadata/uid', value: live.metadata.uid },
        { op: 'test', path: markPath, value: id },
        { op: 'remove', path: markPath },
      ];
      try {
        await this.kube.patch(ref, patch, 'json');
        return { ref, action: 'orphaned' };
      } catch (err) {
        if (isNotFound(err)) return { ref, action: 'gone' };
        // A failed `test` (422): replaced or taken over in between — not ours any more. Any other
        // refusal (RBAC, admission) is the caller's to see.
        const now = await this.kube.getOrNull(ref);
        if (!now) return { ref, action: 'gone' };
        if (now.metadata.uid !== live.metadata.uid || now.metadata.annotations?.[ANNOTATION_OWNER] !== id) return { ref, action: 'skipped' };
        throw err;
      }
    });
  }

  private async waitForCrd(name: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const crd = await this.kube.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name });
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) {
        this.kube.mapper.invalidate();
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new TrellisError('TRL_APPLY_CRD_NOT_ESTABLISHED', 'the CRD was applied but not Established within 10 s', { object: `CustomResourceDefinition/${name}` });
  }
}

/** Consecutive runs of equal apply rank, from a list sorted by {@link sortForApply}. */
function byRank(sorted: KubeObject[]): KubeObject[][] {
  const groups: KubeObject[][] = [];
  for (const obj of sorted) {
    const last = groups[groups.length - 1];
    if (last && applyRank(last[0]!) === applyRank(obj)) last.push(obj);
    else groups.push([obj]);
  }
  return groups;
}
