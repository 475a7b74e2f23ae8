import type { Informer, KubeObject } from '../../kube/index.js';
import { TrellisError } from '../../lib/errors.js';
import type { BoundApplication, RenderedObject } from '../../render/index.js';

/** What watching one kind came to; a reconcile never waits longer than the watcher's sync timeout. */
export type KindState =
  /** Watched, and its first list is in the cache. */
  | { state: 'watched'; informer: Informer<KubeObject> }
  /** Served, but its first list did not come in time (RBAC refuses it, the server is slow); it keeps trying. */
  | { state: 'syncing'; informer: Informer<KubeObject>; error?: string }
  /** The API server does not serve the kind (no CRD installs it): nothing of it can be applied or watched. */
  | { state: 'unserved' };

/** The kinds the reconciler reads live objects of; each is watched (label-selected) once asked for. */
export interface KindWatcher {
  /**
   * Watches `apiVersion`/`kind` (events wake the AppConfig named by the object's
   * `app.oam.dev/name` label), waiting at most the sync timeout for its first list.
   */
  ensure(apiVersion: string, kind: string): Promise<KindState>;
  /** The informer of a kind already watched. */
  get(apiVersion: string, kind: string): Informer<KubeObject> | undefined;
  /** Kinds a workload of this kind creates (WorkloadDefinition `childResourceKinds`). */
  childKinds(apiVersion: string, kind: string): Promise<{ apiVersion: string; kind: string }[]>;
}

export interface Kind {
  apiVersion: string;
  kind: string;
}

/** What watching the kinds of one rendered application found. */
export interface KindsReport {
  /** Rendered objects whose kind the API server does not serve: not applied, reported. */
  unserved: RenderedObject[];
  /** Kinds still listing after the sync timeout: applied without a cache (every object written), reported. */
  syncing: (Kind & { error?: string })[];
}

export const kindKey = (o: Kind): string => `${o.apiVersion}/${o.kind}`;

/**
 * Watches every kind rendered and the kinds workloads create, so drift and health changes wake the
 * AppConfig — all at once, each bounded by the watcher's sync timeout, so no kind can hold a
 * worker. `extra` kinds (children workloads create, data stores) are watched too; one that is not
 * served only means it cannot be read.
 */
export async function watchKinds(
  kinds: KindWatcher,
  bound: BoundApplication,
  extra: Kind[] = [],
): Promise<KindsReport> {
  const rendered = new Map<string, Kind>();
  for (const { object } of bound.objects) rendered.set(kindKey(object), object);
  const children = new Map<string, Kind>(extra.filter((k) => !rendered.has(kindKey(k))).map((k) => [kindKey(k), k]));
  for (const c of bound.components) {
    for (const child of await kinds.childKinds(c.workload.object.apiVersion, c.workload.object.kind))
      if (!rendered.has(kindKey(child))) children.set(kindKey(child), child);
  }
  const states = new Map<string, KindState>();
  await Promise.all(
    [...rendered.values(), ...children.values()].map(async (k) =>
      states.set(kindKey(k), await kinds.ensure(k.apiVersion, k.kind)),
    ),
  );
  const syncing: KindsReport['syncing'] = [];
  for (const [key, k] of rendered) {
    const s = states.get(key);
    if (s?.state === 'syncing')
      syncing.push({ apiVersion: k.apiVersion, kind: k.kind, ...(s.error ? { error: s.error } : {}) });
  }
  return { unserved: bound.objects.filter((o) => states.get(kindKey(o.object))?.state === 'unserved'), syncing };
}

/**
 * TRL_APPLY_KIND_NOT_SERVED for the objects of unserved kinds, naming each by the field of the
 * AppConfig (or Component) it comes from.
 *
 * @example
 *   // [TRL_APPLY_KIND_NOT_SERVED] ApplicationConfiguration/ns/conflict: spec.components[0].traits[0].trait:
 *   //   the API server does not serve core.oam.dev/v1alpha2 Trait1 (install the CRD that defines it); ...
 */
export function unservedError(appId: string, bound: BoundApplication, unserved: RenderedObject[]): TrellisError {
  const byKind = new Map<string, { kind: Kind; fields: string[] }>();
  for (const o of unserved) {
    const entry = byKind.get(kindKey(o.object)) ?? { kind: o.object, fields: [] };
    entry.fields.push(fieldOf(bound, o));
    byKind.set(kindKey(o.object), entry);
  }
  const parts = [...byKind.values()].map(
    ({ kind, fields }) => `${fields.join(', ')}: the API server does not serve ${kind.apiVersion} ${kind.kind}`,
  );
  return new TrellisError(
    'TRL_APPLY_KIND_NOT_SERVED',
    `${parts.join('; ')} (install the CRD that defines it, or fix apiVersion/kind); everything else is applied`,
    { object: appId },
  );
}

/** Where a rendered object comes from, as a field of the AppConfig. */
function fieldOf(bound: BoundApplication, o: RenderedObject): string {
  const c = bound.components.find((x) => x.name === o.source.component);
  if (!c) return `component "${o.source.component}"`;
  const base = `spec.components[${c.index}]`;
  if (o.source.role === 'workload') return `${base} (the workload of Component "${c.name}")`;
  if (o.source.role === 'workload-output')
    return `${base} (output "${o.source.output ?? ''}" of Component "${c.name}")`;
  const t = c.traits.find((x) => x.name === o.source.trait);
  const traitField = t ? `${base}.traits[${t.index}].trait` : `${base}.traits`;
  return o.source.role === 'trait' ? traitField : `${traitField} (output "${o.source.output ?? ''}")`;
}
