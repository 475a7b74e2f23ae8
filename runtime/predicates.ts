import type { KubeObject } from '../kube/types.js';
import { jsonEqual } from '../lib/equal.js';

/** A change an informer saw. `old` is set for updates (equal to `object` on a resync). */
export interface ObjectEvent<T extends KubeObject = KubeObject> {
  type: 'add' | 'update' | 'delete';
  object: T;
  old?: T;
}

/** The verdict of a predicate: pass, or skip with a reason a person can read in a debug log. */
export type Verdict = { ok: true } | { ok: false; reason: string };

/**
 * A named, pure event filter (controller-runtime's predicates). Compose with {@link and},
 * {@link or}, {@link not}; test alone.
 *
 * @example
 *   const p = and(generationChanged, not(hasLabel('skip')))
 *   p.check({ type: 'update', object, old })   // → { ok: false, reason: 'generationChanged: generation 3 unchanged' }
 */
export interface Predicate<T extends KubeObject = KubeObject> {
  name: string;
  check(event: ObjectEvent<T>): Verdict;
}

const PASS: Verdict = { ok: true };
const skip = (name: string, reason: string): Verdict => ({ ok: false, reason: `${name}: ${reason}` });

/** A predicate from a name and a test returning `true` (pass) or the reason it skips. */
export function predicate<T extends KubeObject = KubeObject>(
  name: string,
  test: (event: ObjectEvent<T>) => true | string,
): Predicate<T> {
  return {
    name,
    check(event) {
      const r = test(event);
      return r === true ? PASS : skip(name, r);
    },
  };
}

/** Passes when every predicate passes; the verdict names the first that skipped. */
export function and<T extends KubeObject>(...predicates: Predicate<T>[]): Predicate<T> {
  return {
    name: `and(${predicates.map((p) => p.name).join(', ')})`,
    check(event) {
      for (const p of predicates) {
        const v = p.check(event);
        if (!v.ok) return v;
      }
      return PASS;
    },
  };
}

/** Passes when any predicate passes; the verdict lists why each skipped. */
export function or<T extends KubeObject>(...predicates: Predicate<T>[]): Predicate<T> {
  return {
    name: `or(${predicates.map((p) => p.name).join(', ')})`,
    check(event) {
      const reasons: string[] = [];
      for (const p of predicates) {
        const v = p.check(event);
        if (v.ok) return PASS;
        reasons.push(v.reason);
      }
      return { ok: false, reason: reasons.join('; ') };
    },
  };
}

export function not<T extends KubeObject>(p: Predicate<T>): Predicate<T> {
  const name = `not(${p.name})`;
  return { name, check: (event) => (p.check(event).ok ? skip(name, `${p.name} passed`) : PASS) };
}

/** Skips updates that leave `metadata.generation` alone (status-only and metadata-only changes, resyncs). */
export const generationChanged = predicate('generationChanged', ({ type, object, old }) => {
  if (type !== 'update' || !old) return true;
  const g = object.metadata.generation;
  if (g === undefined || g !== old.metadata.generation) return true;
  return `generation ${g} unchanged`;
});

/** Whether `event` is an informer's replay of an object it already had (a periodic resync): an update with an unchanged resourceVersion. */
export function isReplay({ type, object, old }: ObjectEvent): boolean {
  return type === 'update' && !!old && object.metadata.resourceVersion === old.metadata.resourceVersion;
}

/** Skips updates with an unchanged resourceVersion (periodic resyncs). */
export const resourceVersionChanged = predicate('resourceVersionChanged', (event) =>
  isReplay(event) ? 'resync without a change' : true,
);

/** Passes only the informer's periodic replays (an update with an unchanged resourceVersion). Combine with `or`. */
export const isResync = predicate('isResync', (event) => (isReplay(event) ? true : 'not a resync'));

/** Skips updates that change neither generation, labels, annotations, finalizers nor deletion. */
export const specOrMetadataChanged = predicate('specOrMetadataChanged', ({ type, object, old }) => {
  if (type !== 'update' || !old) return true;
  const a = object.metadata;
  const b = old.metadata;
  if (a.generation !== b.generation || a.deletionTimestamp !== b.deletionTimestamp) return true;
  if (!jsonEqual([a.labels, a.annotations, a.finalizers], [b.labels, b.annotations, b.finalizers])) return true;
  return 'only status changed';
});

/** Passes objects carrying `key` (with `value`, when given). */
export function hasLabel<T extends KubeObject = KubeObject>(key: string, value?: string): Predicate<T> {
  return predicate(`hasLabel(${key}${value === undefined ? '' : `=${value}`})`, ({ object }) => {
    const v = object.metadata.labels?.[key];
    if (v === undefined) return `no label ${key}`;
    if (value !== undefined && v !== value) return `label ${key}=${v}`;
    return true;
  });
}

/** Passes objects carrying annotation `key`, e.g. Trellis' owner mark. */
export function hasAnnotation<T extends KubeObject = KubeObject>(key: string): Predicate<T> {
  return predicate(`hasAnnotation(${key})`, ({ object }) =>
    object.metadata.annotations?.[key] !== undefined ? true : `no annotation ${key}`,
  );
}

/** Passes objects whose controller owner reference is of `kind` (optionally in `group`). */
export function controlledBy<T extends KubeObject = KubeObject>(kind: string, group?: string): Predicate<T> {
  return predicate(`controlledBy(${kind})`, ({ object }) => {
    const ref = object.metadata.ownerReferences?.find((r) => r.controller);
    if (!ref) return 'no controller owner';
    if (ref.kind !== kind || (group !== undefined && !ref.apiVersion.startsWith(`${group}/`)))
      return `controlled by ${ref.kind}`;
    return true;
  });
}

/**
 * Passes adds, deletes and updates that changed something besides `status`: the spec (or any other
 * top-level field) or the metadata people and other controllers write (labels, annotations,
 * owners, finalizers, deletion). Skips an update of status alone — a controller reporting progress,
 * as kube-controller-manager does on a Deployment several times after each change, the first time
 * with its revision annotation ({@link STATUS_ANNOTATIONS}) — and one that
 * only moved field ownership (managedFields: who wrote, not what; a server-side apply handing a
 * create's fields over), and resync replays.
 */
export const changedBeyondStatus = predicate('changedBeyondStatus', ({ type, object, old }) => {
  if (type !== 'update' || !old) return true;
  return jsonEqual(withoutStatus(object), withoutStatus(old)) ? 'only status or field ownership changed' : true;
});

/**
 * Annotations Kubernetes' own controllers write together with an object's status, as part of it:
 * kube-controller-manager sets a Deployment's `deployment.kubernetes.io/revision` in the status
 * update that reports a new ReplicaSet (the status subresource keeps spec and labels, not
 * annotations) — after every template change.
 */
const STATUS_ANNOTATIONS = ['deployment.kubernetes.io/revision'];

/**
 * The object without what a status update changes (`status`, the resourceVersion, the
 * {@link STATUS_ANNOTATIONS}) and without managedFields.
 */
function withoutStatus(o: KubeObject): unknown {
  const { status: _status, metadata, ...rest } = o as KubeObject & { status?: unknown };
  const { resourceVersion: _version, managedFields: _managed, annotations, ...meta } = metadata;
  const kept = Object.entries(annotations ?? {}).filter(([k]) => !STATUS_ANNOTATIONS.includes(k));
  return { ...rest, metadata: { ...meta, ...(kept.length ? { annotations: Object.fromEntries(kept) } : {}) } };
}
