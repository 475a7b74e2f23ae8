import { ANNOTATION_ADOPT, ANNOTATION_ADOPTED, ANNOTATION_OWNER, ANNOTATION_PRUNED_FIELDS } from '../apis/labels.js';
import {
  hasFieldSets,
  isAlreadyExists,
  isConflict,
  isInvalid,
  isNotFound,
  KubeApiError,
  type KubeClient,
} from '../kube/index.js';
import { refOf, type KubeObject } from '../kube/types.js';
import { messageOf } from '../lib/errors.js';
import { takeOverFields, type ManagedFieldsEntry } from './ownership.js';
import { undeclaredFields, withoutFields } from './undeclared-fields.js';

/** Undeclared fields are pruned and the apply retried at most this often (the server names one field per refusal). */
const MAX_PRUNE_ROUNDS = 32;

/**
 * The resourceVersion a create's apply carries (the largest etcd revision): an existing object,
 * whose version is an etcd revision, never has it, so the apply fails on it (ObjectWriter.create).
 */
const NO_OBJECT_HAS_THIS_VERSION = '9223372036854775807';

/** A JSON-pointer segment (RFC 6901). */
const pointer = (segment: string) => segment.replaceAll('~', '~0').replaceAll('/', '~1');

/**
 * True for a failed write that means the object moved under the writer — created, changed or
 * deleted by someone else since it was read: read it again, judge again, write again.
 */
export function movedUnderUs(err: unknown): boolean {
  return isAlreadyExists(err) || isConflict(err) || isNotFound(err);
}

/**
 * The three writes an owner makes, each conditional on the object being exactly as it was judged
 * (docs/adr/0010-ownership.md): a create that fails if the object exists, an apply that fails if the
 * object changed since it was read, and an adoption patch that tests the version it adopts.
 */
export class ObjectWriter {
  private readonly kube: KubeClient;

  constructor(
    kube: KubeClient,
    private readonly fieldManager: string,
  ) {
    this.kube = kube.withFieldManager(fieldManager);
  }

  /**
   * Creates the object, failing with AlreadyExists (409) when it exists — so two owners starting at
   * once never both take it: exactly one create succeeds. It is a server-side apply carrying a
   * resourceVersion no object ever has ({@link NO_OBJECT_HAS_THIS_VERSION}): the API server creates
   * an absent object from it (an apply's version is checked only against an existing object) and
   * refuses an existing one with a 409 — a plain apply would merge into whatever another owner
   * created a moment earlier. Applied, not `POST`ed, so the fields are this manager's `Apply` entry
   * from the start and the first update is one request, with no hand-over of an `Update` entry.
   * Should an API server ever refuse an apply-create carrying a version, the object is read: still
   * absent, it is `POST`ed as before (and handed over on its first update).
   */
  async create(desired: KubeObject): Promise<KubeObject> {
    const guarded = { ...desired, metadata: { ...desired.metadata, resourceVersion: NO_OBJECT_HAS_THIS_VERSION } };
    try {
      return await this.applyPruning(guarded, true);
    } catch (err) {
      if (!isConflict(err)) throw err;
      if (await this.kube.getOrNull(refOf(desired)))
        throw new KubeApiError(409, 'AlreadyExists', `${refOf(desired).name} already exists`, undefined, {
          cause: err,
        });
    }
    // Strict, so a field the schema does not declare is named (and pruned, recorded) as on an update.
    return this.pruning(desired, (attempt) =>
      this.kube.create(attempt, { fieldManager: this.fieldManager, fieldValidation: 'Strict' }),
    );
  }

  /**
   * Server-side applies `desired` onto `live` with the precondition that the object is still at
   * `live`'s resourceVersion (409 otherwise). An object this writer `POST`ed (earlier Trellis versions
   * did; see {@link create}) holds its fields in an `Update` entry of its field manager (a create is
   * not an apply): they are first handed to its `Apply` entry, so fields the owner stops rendering
   * are removed like any others.
   */
  async update(desired: KubeObject, cachedLive: KubeObject, force: boolean): Promise<KubeObject> {
    const own = (e: ManagedFieldsEntry) => e.manager === this.fieldManager && e.operation === 'Update';
    const take = (obj: KubeObject) =>
      takeOverFields(entriesOf(obj), own, this.fieldManager, desired.apiVersion, new Date().toISOString());
    let current = cachedLive;
    if (take(cachedLive)) {
      // The hand-over without field sets (a compacted cache keeps none): the entry's operation turned
      // into Apply in place, when that is all it takes; else the field sets are read first.
      const flip = hasFieldSets(cachedLive) ? undefined : this.applyInPlace(cachedLive, desired.apiVersion);
      if (flip) current = await this.patchVersion(cachedLive, flip);
      else {
        const live = await this.withFieldSets(cachedLive);
        const managedFields = take(live);
        current = managedFields
          ? await this.patchVersion(live, [{ op: 'replace', path: '/metadata/managedFields', value: managedFields }])
          : live;
      }
    }
    return this.applyPruning(
      { ...desired, metadata: { ...desired.metadata, resourceVersion: current.metadata.resourceVersion } },
      force,
    );
  }

  /**
   * The JSON patch handing this writer's `Update` entry to its `Apply` entry when it has no `Apply`
   * entry yet at `apiVersion` (the first update after a create): the entry's operation, replaced in
   * place — its fields are then the Apply entry's, exactly what {@link takeOverFields} would build.
   * `undefined` when there is more to merge (both entries exist, or several).
   */
  private applyInPlace(live: KubeObject, apiVersion: string): object[] | undefined {
    const entries = entriesOf(live);
    const mine = (e: ManagedFieldsEntry) =>
      e.manager === this.fieldManager && !e.subresource && e.apiVersion === apiVersion;
    const updates = entries.flatMap((e, i) => (mine(e) && e.operation === 'Update' ? [i] : []));
    if (updates.length !== 1 || entries.some((e) => mine(e) && e.operation === 'Apply')) return undefined;
    const at = `/metadata/managedFields/${updates[0]}`;
    return [
      { op: 'test', path: `${at}/manager`, value: this.fieldManager },
      { op: 'test', path: `${at}/operation`, value: 'Update' },
      { op: 'replace', path: `${at}/operation`, value: 'Apply' },
    ];
  }

  /**
   * Server-side apply, pruning what the schema does not declare the way the API server prunes it on
   * a create or update (docs/adr/0016-upstream-compatibility.md): server-side apply refuses such a
   * field instead, one per refusal (`.spec.foo: field not declared in schema`), so the field named is
   * removed and the apply sent again (at most {@link MAX_PRUNE_ROUNDS} times). What was removed is
   * recorded on the object ({@link ANNOTATION_PRUNED_FIELDS}) for the owner to report and for
   * upToDate() to expect.
   */
  private applyPruning(desired: KubeObject, force: boolean): Promise<KubeObject> {
    return this.pruning(desired, (attempt) => this.kube.apply(attempt, { fieldManager: this.fieldManager, force }));
  }

  /** Writes `desired`, removing each field the server names as undeclared and writing again. */
  private async pruning(desired: KubeObject, write: (attempt: KubeObject) => Promise<KubeObject>): Promise<KubeObject> {
    const pruned: string[] = [];
    let attempt = desired;
    for (let round = 0; ; round++) {
      try {
        return await write(attempt);
      } catch (err) {
        const next = withoutFields(attempt, round < MAX_PRUNE_ROUNDS ? undeclaredFields(messageOf(err)) : []);
        if (!next.removed.length) throw err;
        pruned.push(...next.removed);
        const annotations = { ...next.object.metadata.annotations, [ANNOTATION_PRUNED_FIELDS]: pruned.join(',') };
        attempt = { ...next.object, metadata: { ...next.object.metadata, annotations } };
      }
    }
  }

  /**
   * Adopts `live` for the owner `desired` names: in one patch that tests `live`'s resourceVersion,
   * puts the owner's mark (and controller reference) on it — from then on it is the owner's, even if
   * the apply that follows has to be retried — replaces the adoption annotation with the record of
   * the adoption ({@link ANNOTATION_ADOPTED}: when, and `from` whom), and hands the fields
   * of `managers` (those that made it) to this writer's field manager. The apply that follows then
   * leaves exactly what the owner renders (and what Kubernetes' own components set), never a mix of
   * the old object and the new.
   */
  async adopt(cachedLive: KubeObject, managers: string[], from: string, desired: KubeObject): Promise<KubeObject> {
    const take = (e: ManagedFieldsEntry) =>
      managers.includes(e.manager ?? '') || (e.manager === this.fieldManager && e.operation === 'Update');
    const live = await this.withFieldSets(cachedLive);
    const managedFields = takeOverFields(
      entriesOf(live),
      take,
      this.fieldManager,
      desired.apiVersion,
      new Date().toISOString(),
    );
    const mark = desired.metadata.annotations?.[ANNOTATION_OWNER];
    const controller = desired.metadata.ownerReferences?.find((r) => r.controller);
    const refs = live.metadata.ownerReferences;
    return this.patchVersion(live, [
      { op: 'remove', path: `/metadata/annotations/${pointer(ANNOTATION_ADOPT)}` },
      {
        op: 'add',
        path: `/metadata/annotations/${pointer(ANNOTATION_ADOPTED)}`,
        value: `${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} ${from}`,
      },
      ...(mark ? [{ op: 'add', path: `/metadata/annotations/${pointer(ANNOTATION_OWNER)}`, value: mark }] : []),
      ...(controller
        ? [
            refs
              ? { op: 'add', path: '/metadata/ownerReferences/-', value: controller }
              : { op: 'add', path: '/metadata/ownerReferences', value: [controller] },
          ]
        : []),
      ...(managedFields ? [{ op: 'replace', path: '/metadata/managedFields', value: managedFields }] : []),
    ]);
  }

  /**
   * `live` with the field sets of its `managedFields` (as read from the API server): itself when it
   * has them, else read again — and when it changed since the copy was judged, a conflict (409),
   * so the caller reads, judges and writes again.
   */
  private async withFieldSets(live: KubeObject): Promise<KubeObject> {
    if (hasFieldSets(live)) return live;
    const fresh = await this.kube.get(refOf(live));
    if (fresh.metadata.resourceVersion !== live.metadata.resourceVersion)
      throw new KubeApiError(409, 'Conflict', `${refOf(live).name} changed since it was read`);
    return fresh;
  }

  /** A JSON patch applied only while the object is at `live`'s resourceVersion; a failed test reads as a conflict. */
  private async patchVersion(live: KubeObject, ops: object[]): Promise<KubeObject> {
    try {
      return await this.kube.patch(
        refOf(live),
        [{ op: 'test', path: '/metadata/resourceVersion', value: live.metadata.resourceVersion }, ...ops],
        'json',
      );
    } catch (err) {
      // The API server answers a failed `test` with 422; these patches touch nothing else it could refuse.
      if (isInvalid(err))
        throw new KubeApiError(409, 'Conflict', `${refOf(live).name} changed since it was read`, undefined, {
          cause: err,
        });
      throw err;
    }
  }
}

function entriesOf(obj: KubeObject): ManagedFieldsEntry[] {
  return (obj.metadata.managedFields ?? []) as ManagedFieldsEntry[];
}
