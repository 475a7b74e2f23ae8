import { ANNOTATION_OWNER } from '../../apis/labels.js';
import type { KubeObject } from '../../kube/types.js';
import { contentHash } from '../../lib/hash.js';

/** On every object the AppConfig controller applies: the hash of exactly what it applied last. */
export const ANNOTATION_APPLIED_HASH = 'trellis.dev/applied-hash';

export interface Owner {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

/**
 * The object as the controller applies it: controlled by `owner` (so deleting the AppConfig
 * garbage-collects it; not for cluster-scoped objects, which a namespaced owner cannot own), and
 * annotated with the hash of its content, so an unchanged re-sync can tell it needs no write.
 */
export function prepare(obj: KubeObject, owner: Owner, namespaced: boolean): KubeObject {
  const others = (obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== owner.uid);
  const ownerReferences = namespaced ? [...others.map((r) => ({ ...r, controller: false })), { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true }] : others;
  const { [ANNOTATION_APPLIED_HASH]: _old, ...annotations } = obj.metadata.annotations ?? {};
  const withOwner: KubeObject = { ...obj, metadata: { ...obj.metadata, annotations, ...(ownerReferences.length ? { ownerReferences } : {}) } };
  return { ...withOwner, metadata: { ...withOwner.metadata, annotations: { ...annotations, [ANNOTATION_APPLIED_HASH]: contentHash(withOwner) } } };
}

/**
 * True when applying `desired` would change nothing: the live object carries the hash of this very
 * content (so no field was added to or removed from the template since) and still has every value
 * the controller sets (so nobody edited them). Fields others added are not our business.
 */
export function upToDate(desired: KubeObject, live: KubeObject | undefined): boolean {
  if (!live || live.metadata.deletionTimestamp) return false;
  if (live.metadata.annotations?.[ANNOTATION_APPLIED_HASH] !== desired.metadata.annotations?.[ANNOTATION_APPLIED_HASH]) return false;
  if (live.metadata.annotations?.[ANNOTATION_OWNER] !== desired.metadata.annotations?.[ANNOTATION_OWNER]) return false;
  const { status: _s, metadata, ...rest } = desired;
  const { status: _ls, metadata: liveMeta, ...liveRest } = live;
  return contains(liveRest, rest) && contains(liveMeta.labels ?? {}, metadata.labels ?? {}) && contains(liveMeta.annotations ?? {}, metadata.annotations ?? {}) && ownersMatch(liveMeta.ownerReferences, metadata.ownerReferences);
}

function ownersMatch(live: KubeObject['metadata']['ownerReferences'], desired: KubeObject['metadata']['ownerReferences']): boolean {
  return (desired ?? []).every((d) => (live ?? []).some((l) => l.uid === d.uid && !!l.controller === !!d.controller));
}

/** `live` has every value `want` has (objects by key, lists item by item, scalars equal). */
export function contains(live: unknown, want: unknown): boolean {
  if (want === null || typeof want !== 'object') return live === want || (typeof want === 'number' && typeof live === 'number' && Number(live) === want);
  if (Array.isArray(want)) return Array.isArray(live) && live.length === want.length && want.every((w, i) => contains(live[i], w));
  if (live === null || typeof live !== 'object' || Array.isArray(live)) return false;
  return Object.entries(want as Record<string, unknown>).every(([k, v]) => contains((live as Record<string, unknown>)[k], v));
}
