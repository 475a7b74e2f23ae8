import type { KubeObject } from './types.js';

/** The annotation `kubectl apply` (client-side) keeps the whole applied object in; nothing in Trellis reads it. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** What a compacted cache keeps of one `managedFields` entry: who wrote the object, how, at which version. */
export interface ManagerEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  subresource?: string;
}

/**
 * The object as an informer cache keeps it (the manager's default, as controller-runtime's
 * `TransformStripManagedFields`): `metadata.managedFields` reduced to who wrote the object — each
 * entry's `manager`, `operation`, `apiVersion` and `subresource`, without `fieldsV1` (the field sets
 * that made up 38 % of the cached JSON at scale, bench:reconcile) — and without the
 * `kubectl.kubernetes.io/last-applied-configuration` annotation (a second copy of the object). Status
 * and everything else stay. Code that needs the field sets reads the object from the API server:
 * {@link hasFieldSets} tells whether an object still carries them. Returns `obj` itself when there
 * is nothing to drop.
 *
 * @example
 *   compactForCache(deployment).metadata.managedFields
 *   // [{ manager: 'trellis', operation: 'Apply', apiVersion: 'apps/v1' }, { manager: 'kube-controller-manager', ... }]
 */
export function compactForCache<T extends KubeObject>(obj: T): T {
  const metadata = obj.metadata;
  if (!metadata) return obj;
  const entries = metadata.managedFields as Record<string, unknown>[] | undefined;
  const annotations = metadata.annotations;
  const lastApplied = annotations !== undefined && LAST_APPLIED_ANNOTATION in annotations;
  if (!lastApplied && (!entries || !hasFieldSets(obj))) return obj;
  const next: KubeObject['metadata'] = { ...metadata };
  if (entries) next.managedFields = entries.map(managerEntry);
  if (lastApplied) {
    const { [LAST_APPLIED_ANNOTATION]: _dropped, ...rest } = annotations;
    if (Object.keys(rest).length) next.annotations = rest;
    else delete next.annotations;
  }
  return { ...obj, metadata: next };
}

function managerEntry(e: Record<string, unknown>): ManagerEntry {
  const out: ManagerEntry = {};
  if (typeof e.manager === 'string') out.manager = e.manager;
  if (typeof e.operation === 'string') out.operation = e.operation;
  if (typeof e.apiVersion === 'string') out.apiVersion = e.apiVersion;
  if (typeof e.subresource === 'string') out.subresource = e.subresource;
  return out;
}

/**
 * True when every `managedFields` entry of `obj` carries its field set (`fieldsV1`), as the API
 * server answers; false for a copy from a compacted cache ({@link compactForCache}). An object
 * without entries has nothing missing.
 */
export function hasFieldSets(obj: KubeObject): boolean {
  return ((obj.metadata.managedFields ?? []) as Record<string, unknown>[]).every((e) => e.fieldsV1 !== undefined);
}
