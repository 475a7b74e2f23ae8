import { ANNOTATION_APPLIED_HASH, ANNOTATION_OWNER, ANNOTATION_PRUNED_FIELDS } from '../apis/labels.js';
import type { KubeObject } from '../kube/types.js';
import { contentHash } from '../lib/hash.js';
import { ownerId, type Owner } from './labels.js';
import { withoutFields } from './undeclared-fields.js';

export { ANNOTATION_APPLIED_HASH, ANNOTATION_PRUNED_FIELDS } from '../apis/labels.js';

/**
 * The object as `owner` applies it (a copy): marked with the owner ({@link ANNOTATION_OWNER}, what
 * prune and the ownership check go by); controlled by the owner when it has a uid and the object
 * lives in the owner's namespace (so deleting the owner garbage-collects it — a namespaced owner
 * cannot own cluster-scoped objects or objects in other namespaces; other owner references the
 * template set are kept as non-controllers); and annotated with the hash of all that
 * ({@link ANNOTATION_APPLIED_HASH}), so an unchanged re-sync can tell it needs no write.
 *
 * @example
 *   const owner = { apiVersion: 'core.oam.dev/v1alpha2', kind: 'ApplicationConfiguration', name: 'shop', namespace: 'ns', uid }
 *   desiredObject(deployment, owner, true)
 */
export function desiredObject(obj: KubeObject, owner: Owner, namespaced: boolean): KubeObject {
  const controls = !!owner.uid && namespaced && obj.metadata.namespace === owner.namespace;
  const others = (obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== owner.uid);
  const ownerReferences = controls
    ? [
        ...others.map((r) => ({ ...r, controller: false })),
        {
          apiVersion: owner.apiVersion,
          kind: owner.kind,
          name: owner.name,
          uid: owner.uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]
    : others;
  const { [ANNOTATION_APPLIED_HASH]: _old, ...rest } = obj.metadata.annotations ?? {};
  const annotations = { ...rest, [ANNOTATION_OWNER]: ownerId(owner) };
  const { ownerReferences: _refs, ...metadata } = obj.metadata;
  const withOwner: KubeObject = {
    ...obj,
    metadata: { ...metadata, annotations, ...(ownerReferences.length ? { ownerReferences } : {}) },
  };
  return {
    ...withOwner,
    metadata: {
      ...withOwner.metadata,
      annotations: { ...annotations, [ANNOTATION_APPLIED_HASH]: contentHash(withOwner) },
    },
  };
}

/** The fields pruned from the live object when it was applied (see {@link ANNOTATION_PRUNED_FIELDS}). */
export function prunedFieldsOf(live: KubeObject | undefined): string[] {
  return live?.metadata.annotations?.[ANNOTATION_PRUNED_FIELDS]?.split(',').filter(Boolean) ?? [];
}

/**
 * True when applying `desired` would change nothing: the live object carries the hash of this very
 * content (so no field was added to or removed from the template since) and still has every value
 * the owner sets (so nobody edited them). Fields others added are not the owner's business.
 */
export function upToDate(desired: KubeObject, live: KubeObject | undefined): boolean {
  if (!live || live.metadata.deletionTimestamp) return false;
  if (live.metadata.annotations?.[ANNOTATION_APPLIED_HASH] !== desired.metadata.annotations?.[ANNOTATION_APPLIED_HASH])
    return false;
  if (live.metadata.annotations?.[ANNOTATION_OWNER] !== desired.metadata.annotations?.[ANNOTATION_OWNER]) return false;
  // Fields pruned because the schema does not declare them are missing from the live copy on purpose.
  const pruned = prunedFieldsOf(live);
  const {
    status: _s,
    metadata,
    ...rest
  } = pruned.length
    ? withoutFields(
        desired,
        pruned.map((p) => `.${p}`),
      ).object
    : desired;
  const { status: _ls, metadata: liveMeta, ...liveRest } = live;
  return (
    contains(liveRest, rest) &&
    contains(liveMeta.labels ?? {}, metadata.labels ?? {}) &&
    contains(liveMeta.annotations ?? {}, metadata.annotations ?? {}) &&
    ownersMatch(liveMeta.ownerReferences, metadata.ownerReferences)
  );
}

function ownersMatch(
  live: KubeObject['metadata']['ownerReferences'],
  desired: KubeObject['metadata']['ownerReferences'],
): boolean {
  return (desired ?? []).every((d) => (live ?? []).some((l) => l.uid === d.uid && !!l.controller === !!d.controller));
}

/** `live` has every value `want` has (objects by key, lists item by item, scalars equal). */
export function contains(live: unknown, want: unknown): boolean {
  if (want === null || typeof want !== 'object')
    return live === want || (typeof want === 'number' && typeof live === 'number' && Number(live) === want);
  if (Array.isArray(want))
    return Array.isArray(live) && live.length === want.length && want.every((w, i) => contains(live[i], w));
  if (live === null || typeof live !== 'object' || Array.isArray(live)) return false;
  return Object.entries(want as Record<string, unknown>).every(([k, v]) =>
    contains((live as Record<string, unknown>)[k], v),
  );
}
