import { ANNOTATION_ADOPTED, ANNOTATION_APPLIED_HASH, ANNOTATION_APPLY_ONCE } from '../apis/labels.js';
import { isAlreadyExists, isConflict, isForbidden, isNotFound, type KubeClient } from '../kube/index.js';
import { describeRef, refOf, type KubeObject } from '../kube/types.js';
import { TrellisError, messageOf } from '../lib/errors.js';
import { mapLimit } from '../lib/map-limit.js';
import { desiredObject, upToDate } from './desired.js';
import { diffObjects, type FieldChange } from './diff.js';
import { entryKey, entryOf, removedEntries, type InventoryEntry } from './inventory.js';
import { ANNOTATION_OWNER, ownerId, type Owner } from './labels.js';
import { applyRank, sortForApply } from './order.js';
import { judge, judgeForPerson, type Refusal, type Verdict } from './ownership.js';
import { orphanEntries, pruneEntries, releaseEntries, type OrphanedObject, type PrunedObject } from './prune.js';
import { keepSharers, shareable, sharePatch } from './shared.js';
import { ObjectWriter } from './write.js';

export type { OrphanedObject, PrunedObject } from './prune.js';

/** Same-kind groups at least this large are listed once instead of read object by object. */
const PREFETCH_MIN = 16;
/** Reads and writes of one object before giving up while others keep changing it (retried later). */
const MAX_ATTEMPTS = 5;

export interface AppliedObject {
  ref: InventoryEntry;
  /**
   * `created`; `configured` / `unchanged` (by resourceVersion before and after, or no write at all
   * when the live object already is as desired); `adopted` (taken over on its adoption annotation);
   * `kept` (apply-once: it differs from what was applied only by edits made since, which stand);
   * `refused` (someone else's: see `refusal`); `shared` (another owner of the same kind made it and
   * {@link ApplyOptions.share} selects it: recorded as a sharer, not written); `failed` (the API server refused the write, with
   * {@link ApplyOptions.keepGoing} only: see `error`).
   */
  action: 'created' | 'configured' | 'unchanged' | 'adopted' | 'kept' | 'refused' | 'shared' | 'failed';
  /** The object as the API server has it now (when refused: its holder's). */
  object: KubeObject;
  /** For `adopted`: who had made it, e.g. `made by hand (field manager "kubectl-create")`. */
  adoptedFrom?: string;
  /** For `refused`: who holds it, and what to do. */
  refusal?: Refusal;
  /** For `failed`: TRL_APPLY_REJECTED naming the object and the API server's reason. */
  error?: TrellisError;
}

/**
 * The RBAC verbs an identity needs on every resource it applies through the Applier: `get` (each live
 * object is read and judged before anything is written), `create` (what is absent) and `patch`
 * (server-side apply, adoption). Pruning also needs {@link PRUNE_VERBS}. `list` is used when allowed,
 * never needed. Example (a Role rule): `{ resources: ['configmaps'], verbs: [...APPLY_VERBS, ...PRUNE_VERBS] }`.
 */
export const APPLY_VERBS: readonly string[] = ['get', 'create', 'patch'];

/** The RBAC verbs pruning needs beyond {@link APPLY_VERBS}. */
export const PRUNE_VERBS: readonly string[] = ['delete'];

export interface PlannedObject {
  ref: InventoryEntry;
  action: 'create' | 'update' | 'unchanged' | 'prune' | 'refuse';
  /** Field changes (create: every field; prune and refuse: none). */
  changes: FieldChange[];
  /** For `refuse`: who holds it. */
  refusal?: Refusal;
}

export interface RejectedObject {
  ref: InventoryEntry;
  /** The API server's reason (validation, admission webhook or policy). */
  message: string;
  /** `true` when RBAC refused it (HTTP 403): the identity applying may not write it. */
  forbidden: boolean;
}

export interface ApplierOptions {
  kube: KubeClient;
  /** Server-side apply field manager. @default the client's */
  fieldManager?: string;
  /** Objects of one apply rank (see order.ts) written at once; ranks still go one after another. @default 1 */
  concurrency?: number;
}

export interface ApplyOptions {
  /**
   * The live objects as a cache (an informer) holds them, read instead of asking the API server.
   * A cache that lags is safe: every write is conditional on what was read (a miss is a create that
   * fails if the object exists, then it is read from the API server). @default read from the API server
   */
  live?: (obj: KubeObject) => KubeObject | undefined;
  /** Take fields another field manager owns (server-side apply `force`). @default true */
  force?: boolean;
  /**
   * An object the API server refuses becomes a `failed` result and everything else (later ranks
   * too) is still applied — for an owner that reports per object (the AppConfig controller).
   * @default false: the first refusal fails the call after its rank
   */
  keepGoing?: boolean;
  /**
   * KubeVela's `shared-resource`: the objects that, when another owner of the same kind made them, are
   * shared (see shared.ts) instead of refused. Objects no such owner made are still refused.
   * @default none shared
   */
  share?: (obj: KubeObject) => boolean;
  /**
   * Called with each object's result as soon as its write is answered, before the call resolves (the
   * others of its rank may still be in flight) — for what must be known before the object's own watch
   * event is handled. @default none
   */
  onApplied?: (result: AppliedObject) => void;
  /**
   * Objects applied without the owner's controller reference, so deleting the owner leaves them
   * (KubeVela's `garbage-collect` strategy `never`); a reference applied before is removed.
   * @default every object in the owner's namespace is controlled by it
   */
  uncontrolled?: (obj: KubeObject) => boolean;
  /**
   * Objects that, once they exist and are this owner's, are left exactly as they are — result `kept`,
   * nothing written (KubeVela's `apply-once` rule with path `*`). @default none
   */
  keep?: (obj: KubeObject) => boolean;
  /**
   * With `live` (a cache): an object the cached copy says must be written is read from the API
   * server first, and judged and written on that copy — for a pass whose cache may lag another
   * writer's last writes (a shard just handed over between replicas), so it neither writes what is
   * already there nor sends a write conditional on a version that has moved on. @default false
   */
  verifyCached?: boolean;
}

/** An ownership verdict, or: share it (see {@link ApplyOptions.share}). */
type Judged = Verdict | { state: 'shared' };

/** Who applies: how an object is prepared, and whether the live one may be changed. */
interface Applicant {
  /** The patch that records this applicant as a sharer of `live`; `undefined` when it is one already. */
  share?(live: KubeObject): Record<string, unknown> | undefined;
  prepare(obj: KubeObject, namespaced: boolean): KubeObject;
  judge(live: KubeObject | undefined, desired: KubeObject): Judged;
  /** Whether an existing object of this applicant's is left as it is (see {@link ApplyOptions.keep}). */
  keep?(desired: KubeObject): boolean;
}

/**
 * The one way Trellis applies: for the AppConfig, ContainerizedWorkload and Function controllers,
 * GitSync, `trellis up` and `trellis apply`. For an owner it marks every object
 * ({@link ANNOTATION_OWNER}), makes it controlled by the owner when it can, stamps the applied hash,
 * applies in dependency order (CRDs and definitions first, CRDs waited for until served), a few at
 * a time — and before every write checks whose the object is: what someone else holds (another
 * owner, another controller, or a person who made it by hand) is never changed but reported as
 * `refused`, unless it is annotated for adoption. Every write is conditional on the object being as
 * it was judged, so two owners starting at once never both take one object (ADR 0010). Prune deletes
 * only objects that still carry the owner's mark, with a uid precondition.
 *
 * @example
 *   const applier = new Applier({ kube, fieldManager: 'trellis', concurrency: 8 })
 *   const results = await applier.apply(objects, owner)
 *   const refused = results.filter((r) => r.action === 'refused')
 *   await applier.prune(previousInventory, results.map((a) => a.ref), owner)
 */
export class Applier {
  private readonly kube: KubeClient;
  private readonly fieldManager: string;
  private readonly concurrency: number;
  private readonly writer: ObjectWriter;

  constructor(options: ApplierOptions) {
    this.kube = options.kube;
    this.fieldManager = options.fieldManager ?? options.kube.fieldManager;
    this.concurrency = Math.max(1, options.concurrency ?? 1);
    this.writer = new ObjectWriter(this.kube, this.fieldManager);
  }

  /** The objects with the owner's mark added. */
  mark(objects: KubeObject[], owner: Owner): KubeObject[] {
    const id = ownerId(owner);
    return objects.map((o) => ({
      ...o,
      metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, [ANNOTATION_OWNER]: id } },
    }));
  }

  /**
   * Applies `objects` for `owner` (one result per object, in input order). Refusals are results,
   * not failures; the first object the API server rejects fails the call with TRL_APPLY_REJECTED
   * naming it — after the rest of its rank was written; later ranks are not.
   */
  apply(objects: KubeObject[], owner: Owner, options: ApplyOptions = {}): Promise<AppliedObject[]> {
    return this.run(
      objects,
      {
        prepare: (o, namespaced) =>
          desiredObject(o, options.uncontrolled?.(o) ? { ...owner, uid: undefined } : owner, namespaced),
        judge: (live, desired): Judged => {
          const verdict = judge(live, desired, owner);
          return verdict.state === 'held' && live && options.share?.(desired) && shareable(live, owner)
            ? { state: 'shared' }
            : verdict;
        },
        share: (live) => sharePatch(live, owner),
        keep: (desired) => options.keep?.(desired) ?? false,
      },
      options,
    );
  }

  /**
   * Applies on behalf of a person (`trellis apply`): objects go as written (no mark, no owner), and
   * an object someone else holds — an owner's mark or a controller — is refused; objects made by
   * hand are the person's to change.
   */
  applyForPerson(objects: KubeObject[], options: ApplyOptions = {}): Promise<AppliedObject[]> {
    return this.run(objects, { prepare: (o) => o, judge: (live) => judgeForPerson(live) }, options);
  }

  private async run(objects: KubeObject[], applicant: Applicant, options: ApplyOptions): Promise<AppliedObject[]> {
    const prepared = await Promise.all(
      objects.map(async (o, index) => ({ index, desired: applicant.prepare(o, await this.namespaced(o)) })),
    );
    const results = new Array<AppliedObject>(objects.length);
    for (const rank of byRank(sortForApply(prepared.map((p) => ({ ...p, kind: p.desired.kind }))))) {
      const read = options.live ? cached(options.live) : await this.reader(rank.map((p) => p.desired));
      let failure: { err: unknown } | undefined;
      await mapLimit(rank, this.concurrency, async ({ index, desired }) => {
        try {
          results[index] = await this.applyOne(desired, applicant, read, options.force ?? true, !!options.verifyCached);
          options.onApplied?.(results[index]);
        } catch (err) {
          if (options.keepGoing && err instanceof TrellisError)
            results[index] = { ref: entryOf(desired), action: 'failed', object: desired, error: err };
          else failure ??= { err };
        }
      });
      if (failure) throw failure.err;
    }
    return results;
  }

  /** Judge, write, and on a write that finds the object moved: read again, judge again. */
  private async applyOne(
    desired: KubeObject,
    applicant: Applicant,
    read: Reader,
    force: boolean,
    verify: boolean,
  ): Promise<AppliedObject> {
    let live = await read(desired);
    let fresh = !read.cached;
    if (!fresh && verify && writes(applicant, applicant.judge(live, desired), desired, live)) {
      live = await this.kube.getOrNull(refOf(desired));
      fresh = true;
    }
    // An adoption is done once its patch went through, even when the apply after it is retried.
    const progress: { adoptedFrom?: string } = {};
    for (let attempt = 1; ; attempt++) {
      let verdict = applicant.judge(live, desired);
      if (verdict.state === 'held' && !fresh) {
        // A cache may still show a holder that has let go: a refusal is worth one read.
        live = await this.kube.getOrNull(refOf(desired));
        fresh = true;
        verdict = applicant.judge(live, desired);
      }
      try {
        const written = await this.write(desired, live, verdict, force, progress, applicant);
        const result: AppliedObject =
          progress.adoptedFrom && written.action !== 'refused'
            ? { ...written, action: 'adopted', adoptedFrom: progress.adoptedFrom }
            : written;
        if (desired.kind === 'CustomResourceDefinition' && result.action !== 'refused')
          await this.waitForCrd(desired.metadata.name!);
        return result;
      } catch (err) {
        const moved = verdict.state === 'absent' ? isAlreadyExists(err) : isConflict(err) || isNotFound(err);
        if (!moved || attempt >= MAX_ATTEMPTS) {
          const reason = moved
            ? `it kept changing while being applied (${attempt} attempts): ${messageOf(err)}`
            : messageOf(err);
          throw new TrellisError('TRL_APPLY_REJECTED', reason, { object: describeRef(desired), cause: err });
        }
        live = await this.kube.getOrNull(refOf(desired));
        fresh = true;
      }
    }
  }

  private async write(
    desired: KubeObject,
    live: KubeObject | undefined,
    verdict: Judged,
    force: boolean,
    progress: { adoptedFrom?: string },
    applicant: Applicant,
  ): Promise<AppliedObject> {
    const ref = entryOf(desired);
    switch (verdict.state) {
      case 'shared': {
        const patch = applicant.share?.(live!);
        const object = patch ? await this.kube.patch(refOf(live!), patch, 'merge') : live!;
        return { ref, action: 'shared', object };
      }
      case 'held':
        return { ref, action: 'refused', object: live!, refusal: verdict.refusal };
      case 'absent':
        return { ref, action: 'created', object: await this.writer.create(desired) };
      case 'adoptable': {
        const adopted = await this.writer.adopt(live!, verdict.managers, verdict.from, desired);
        progress.adoptedFrom = verdict.from;
        return {
          ref,
          action: 'configured',
          object: await this.writer.update(keepRecord(desired, adopted), adopted, force),
        };
      }
      case 'ours': {
        const settled = unwritten(applicant, desired, live!);
        if (settled) return { ref, action: settled, object: live! };
        const after = await this.writer.update(keepSharers(keepRecord(desired, live!), live!), live!, force);
        return {
          ref,
          action: after.metadata.resourceVersion === live!.metadata.resourceVersion ? 'unchanged' : 'configured',
          object: after,
        };
      }
    }
  }

  /**
   * Server-side dry runs of every object this owner may write (validation, admission webhooks and
   * policies all run); returns every rejection, not just the first. Objects someone else holds are
   * left to {@link apply} to report; objects whose kind is not served yet are skipped when
   * `skipUnserved` says so (their CRD is part of the same set). Changes nothing.
   */
  async validate(
    objects: KubeObject[],
    owner: Owner,
    skipUnserved: (obj: KubeObject) => boolean = () => false,
  ): Promise<RejectedObject[]> {
    const rejected: RejectedObject[] = [];
    const desired = await Promise.all(objects.map(async (o) => desiredObject(o, owner, await this.namespaced(o))));
    const read = await this.reader(desired);
    await mapLimit(desired, this.concurrency, async (obj) => {
      try {
        const verdict = judge(await read(obj), obj, owner);
        if (verdict.state === 'held') return;
        if (verdict.state === 'absent') await this.kube.create(obj, { fieldManager: this.fieldManager, dryRun: true });
        else await this.kube.apply(obj, { fieldManager: this.fieldManager, dryRun: true });
      } catch (err) {
        if (isAlreadyExists(err)) return; // created meanwhile: apply judges it again
        if (isNotFound(err) && skipUnserved(obj)) return;
        rejected.push({ ref: entryOf(obj), message: messageOf(err), forbidden: isForbidden(err) });
      }
    });
    return rejected;
  }

  /** What {@link apply} and {@link prune} would do, from server-side dry runs; changes nothing. */
  async plan(objects: KubeObject[], previous: InventoryEntry[], owner: Owner): Promise<PlannedObject[]> {
    const out: PlannedObject[] = [];
    for (const plain of sortForApply(objects)) {
      const obj = desiredObject(plain, owner, await this.namespaced(plain));
      const before = await this.kube.getOrNull(refOf(obj));
      const verdict = judge(before, obj, owner);
      if (verdict.state === 'held') {
        out.push({ ref: entryOf(obj), action: 'refuse', changes: [], refusal: verdict.refusal });
        continue;
      }
      let after: KubeObject;
      try {
        after =
          before || obj.kind !== 'CustomResourceDefinition'
            ? await this.kube.apply(obj, { fieldManager: this.fieldManager, dryRun: true })
            : obj;
      } catch (err) {
        if (!isNotFound(err))
          throw new TrellisError('TRL_APPLY_REJECTED', messageOf(err), { object: describeRef(obj), cause: err });
        after = obj; // its CRD is part of this plan and not installed yet
      }
      const changes = diffObjects(before, after);
      out.push({ ref: entryOf(obj), action: !before ? 'create' : changes.length ? 'update' : 'unchanged', changes });
    }
    const current = objects.map(entryOf);
    for (const ref of removedEntries(previous, current)) {
      const live = await this.kube.getOrNull(ref).catch(() => undefined);
      if (live?.metadata.annotations?.[ANNOTATION_OWNER] === ownerId(owner))
        out.push({ ref, action: 'prune', changes: [] });
    }
    return out;
  }

  /**
   * Deletes what `previous` has and `current` lacks, in reverse dependency order, if it still
   * carries this owner's mark. Kinds no longer served count as gone.
   */
  prune(previous: InventoryEntry[], current: InventoryEntry[], owner: Owner): Promise<PrunedObject[]> {
    return pruneEntries(this.kube, previous, current, owner);
  }

  /** Lets go of the shared objects among `entries`, for an owner being deleted (see {@link releaseEntries}). */
  release(entries: InventoryEntry[], owner: Owner): Promise<InventoryEntry[]> {
    return releaseEntries(this.kube, entries, owner, this.concurrency);
  }

  /** Lets go of objects without deleting them (see {@link orphanEntries}). */
  orphan(entries: InventoryEntry[], owner: Owner): Promise<OrphanedObject[]> {
    return orphanEntries(this.kube, entries, owner, this.concurrency);
  }

  /** Whether the object's kind is namespaced (a kind not served yet counts as namespaced). */
  private async namespaced(obj: KubeObject): Promise<boolean> {
    return (await this.kube.mapper.resolve(obj.apiVersion, obj.kind).catch(() => undefined))?.namespaced ?? true;
  }

  /**
   * Reads live objects from the API server: the larger same-kind groups with one list each,
   * everything else (and groups that cannot be listed) object by object.
   */
  private async reader(objects: KubeObject[]): Promise<Reader> {
    const groups = new Map<string, KubeObject[]>();
    for (const o of objects) {
      const key = `${o.apiVersion}|${o.kind}|${o.metadata.namespace ?? ''}`;
      groups.set(key, [...(groups.get(key) ?? []), o]);
    }
    const listed = new Map<string, KubeObject | null>();
    for (const group of groups.values()) {
      if (group.length < PREFETCH_MIN) continue;
      const { apiVersion, kind, metadata } = group[0]!;
      const list = await this.kube
        .list(apiVersion, kind, metadata.namespace ? { namespace: metadata.namespace } : {})
        .catch(() => undefined);
      if (!list) continue;
      const byName = new Map(list.items.map((o) => [o.metadata.name, o]));
      for (const o of group) listed.set(entryKey(entryOf(o)), byName.get(o.metadata.name) ?? null);
    }
    return async (obj) => {
      const hit = listed.get(entryKey(entryOf(obj)));
      if (hit !== undefined) return hit ?? undefined;
      try {
        return await this.kube.getOrNull(refOf(obj));
      } catch (err) {
        if ((err as { reason?: string }).reason === 'NoKindMatch') return undefined;
        throw err;
      }
    };
  }

  private async waitForCrd(name: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const crd = await this.kube.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        name,
      });
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) {
        this.kube.mapper.invalidate();
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new TrellisError('TRL_APPLY_CRD_NOT_ESTABLISHED', 'the CRD was applied but not Established within 10 s', {
      object: `CustomResourceDefinition/${name}`,
    });
  }
}

/**
 * Apply-once: the object was applied in apply-once mode with exactly this content (same applied
 * hash, which covers the apply-once epoch): whatever differs now was edited by hand since, and stands.
 */
function keptOnce(desired: KubeObject, live: KubeObject): boolean {
  const hash = desired.metadata.annotations?.[ANNOTATION_APPLIED_HASH];
  return (
    !!desired.metadata.annotations?.[ANNOTATION_APPLY_ONCE] &&
    !!hash &&
    !live.metadata.deletionTimestamp &&
    live.metadata.annotations?.[ANNOTATION_APPLIED_HASH] === hash
  );
}

/**
 * `desired` with the adoption record of `live` ({@link ANNOTATION_ADOPTED}), so applying keeps it:
 * the record is part of what the owner applies from the adoption on (outside the applied hash, which
 * stays a hash of what was rendered).
 */
function keepRecord(desired: KubeObject, live: KubeObject): KubeObject {
  const record = live.metadata.annotations?.[ANNOTATION_ADOPTED];
  return record
    ? {
        ...desired,
        metadata: {
          ...desired.metadata,
          annotations: { ...desired.metadata.annotations, [ANNOTATION_ADOPTED]: record },
        },
      }
    : desired;
}

/** Whether {@link Applier.write} sends a write for `verdict` (everything but a refusal, a kept object or an up-to-date one). */
function writes(applicant: Applicant, verdict: Judged, desired: KubeObject, live: KubeObject | undefined): boolean {
  if (verdict.state === 'held') return false;
  return verdict.state !== 'ours' || !unwritten(applicant, desired, live!);
}

/**
 * Why an object of ours is not written: `kept` (applied once, or kept by the applicant) or
 * `unchanged` (live already as desired); undefined when it is to be written.
 */
function unwritten(applicant: Applicant, desired: KubeObject, live: KubeObject): 'kept' | 'unchanged' | undefined {
  if (keptOnce(desired, live) || applicant.keep?.(desired)) return 'kept';
  return upToDate(desired, live) ? 'unchanged' : undefined;
}

/** Reads the live copy of an object; `cached` when it may lag behind the API server. */
type Reader = ((obj: KubeObject) => Promise<KubeObject | undefined>) & { cached?: boolean };

function cached(live: (obj: KubeObject) => KubeObject | undefined): Reader {
  return Object.assign(async (obj: KubeObject) => live(obj), { cached: true });
}

/** Consecutive runs of equal apply rank, from a list sorted by {@link sortForApply}. */
function byRank<T extends { kind: string }>(sorted: T[]): T[][] {
  const groups: T[][] = [];
  for (const item of sorted) {
    const last = groups[groups.length - 1];
    if (last && applyRank(last[0]!) === applyRank(item)) last.push(item);
    else groups.push([item]);
  }
  return groups;
}
