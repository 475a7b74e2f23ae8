import { isAlreadyExists, isConflict, isNotFound, type Informer, type KubeClient } from '../../kube/index.js';
import type { Condition, KubeObject } from '../../kube/types.js';
import { ANNOTATION_REVISION_HASH, LABEL_FUNCTION } from '../labels.js';
import type { FunctionObject } from './config.js';
import {
  newRevision,
  podSnapshot,
  REVISION_KIND,
  revisionNumber,
  snapshotHash,
  type FunctionRevision,
} from './revision.js';
import { FUNCTION_API_VERSION } from './config.js';

/** Revisions kept besides the serving ones, when the Function does not say. */
export const DEFAULT_REVISION_HISTORY = 10;

/** One revision with what the controller knows about it now. */
export interface RevisionState {
  revision: FunctionRevision;
  name: string;
  number: number;
  /** Its Deployment as cached (absent before the first apply). */
  deployment?: KubeObject & {
    spec?: { replicas?: number };
    status?: { replicas?: number; readyReplicas?: number; conditions?: Condition[] };
  };
  /** It has had a ready instance (now, or as its status recorded before). */
  everReady: boolean;
}

/** The revisions of `fn` in `informer`, controlled by it, oldest first. */
export function revisionsOf(fn: FunctionObject, informer: Informer<FunctionRevision & KubeObject>): FunctionRevision[] {
  const name = fn.metadata.name!;
  return informer
    .list()
    .filter(
      (r) =>
        r.metadata.namespace === fn.metadata.namespace &&
        r.metadata.labels?.[LABEL_FUNCTION] === name &&
        (!fn.metadata.uid || r.metadata.ownerReferences?.some((o) => o.uid === fn.metadata.uid)),
    )
    .filter((r) => revisionNumber(name, r.metadata.name ?? '') !== undefined)
    .sort((a, b) => a.spec.number - b.spec.number);
}

/** What changed between two pod snapshots, by top-level field (for Events). */
export function changedFields(before: FunctionRevision | undefined, after: FunctionRevision): string[] {
  if (!before) return [];
  const { function: _a, number: _b, ...old } = before.spec;
  const { function: _c, number: _d, ...now } = after.spec;
  const keys = new Set([...Object.keys(old), ...Object.keys(now)]);
  return [...keys]
    .filter((k) => JSON.stringify(old[k as keyof typeof old]) !== JSON.stringify(now[k as keyof typeof now]))
    .sort();
}

/**
 * The Function's latest revision for its spec as it is now: the newest existing one when it holds
 * the same pod snapshot, else a new one numbered after the newest (and after
 * `status.latestCreatedRevisionName`, so numbers are never reused). Created with `create`, so a
 * stale cache can never make two: the name is taken, and the one there is read back.
 */
export async function ensureLatestRevision(
  kube: KubeClient,
  fn: FunctionObject,
  existing: FunctionRevision[],
  owner: { apiVersion: string; kind: string },
): Promise<{ revision: FunctionRevision; created: boolean }> {
  const hash = snapshotHash(podSnapshot(fn.spec));
  const newest = existing[existing.length - 1];
  if (newest && newest.metadata.annotations?.[ANNOTATION_REVISION_HASH] === hash)
    return { revision: newest, created: false };
  const recorded =
    revisionNumber(
      fn.metadata.name!,
      (fn.status as { latestCreatedRevisionName?: string } | undefined)?.latestCreatedRevisionName ?? '',
    ) ?? 0;
  const revision = newRevision(fn, Math.max(newest?.spec.number ?? 0, recorded) + 1, owner);
  try {
    return {
      revision: await kube.create<FunctionRevision & KubeObject>(revision as unknown as KubeObject),
      created: true,
    };
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    const there = await kube.get<FunctionRevision & KubeObject>({
      apiVersion: FUNCTION_API_VERSION,
      kind: REVISION_KIND,
      namespace: fn.metadata.namespace!,
      name: revision.metadata.name!,
    });
    if (there.metadata.annotations?.[ANNOTATION_REVISION_HASH] === hash) return { revision: there, created: false };
    throw new Error(
      `revision ${revision.metadata.name} exists with other contents than the cache shows: retrying with a fresh cache`,
      { cause: err },
    );
  }
}

/**
 * The revisions to delete: beyond the newest `limit` of those that serve nothing (not in `keep`:
 * the served, tagged, latest created and latest ready ones), and only once their Deployment runs
 * no instance — the autoscaler takes an unrouted revision to zero first, so nothing in flight is cut.
 */
export function revisionsToDelete(states: RevisionState[], keep: Set<string>, limit: number): RevisionState[] {
  const idle = states.filter((s) => !keep.has(s.name)).sort((a, b) => b.number - a.number);
  return idle
    .slice(limit)
    .filter(
      (s) => !s.deployment || ((s.deployment.spec?.replicas ?? 1) === 0 && (s.deployment.status?.replicas ?? 0) === 0),
    );
}

/** Deletes a revision with its Deployment and Service (explicitly: faster than waiting for the garbage collector). */
export async function deleteRevision(kube: KubeClient, state: RevisionState): Promise<void> {
  const namespace = state.revision.metadata.namespace!;
  const gone = (err: unknown) => {
    if (!isNotFound(err) && !isConflict(err)) throw err;
  };
  await kube.delete({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name: state.name }).catch(gone);
  await kube.delete({ apiVersion: 'v1', kind: 'Service', namespace, name: state.name }).catch(gone);
  await kube
    .delete(
      { apiVersion: FUNCTION_API_VERSION, kind: REVISION_KIND, namespace, name: state.name },
      { preconditions: { uid: state.revision.metadata.uid! } },
    )
    .catch(gone);
}
