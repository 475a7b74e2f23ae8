import type {
  FunctionRevisionStatus as RevisionStatus,
  FunctionStatus,
} from '../../apis/generated/serverless.trellis.dev-v1alpha1.js';
import type { Condition } from '../../kube/types.js';
import { canonicalJson } from '../../lib/hash.js';
import { setCondition } from '../../status/conditions.js';
import type { RevisionState } from './revisions.js';
import type { ServedTarget } from './traffic.js';

export type {
  FunctionRevisionStatus as RevisionStatus,
  FunctionStatus,
} from '../../apis/generated/serverless.trellis.dev-v1alpha1.js';

const counts = (s: RevisionState) => ({
  replicas: s.deployment?.status?.replicas ?? 0,
  readyReplicas: s.deployment?.status?.readyReplicas ?? 0,
  desiredReplicas: s.deployment?.spec?.replicas ?? (s.deployment ? 1 : 0),
});

/** Why a revision that has never been ready is not: its Deployment gave up, or it is still starting. */
function notReady(s: RevisionState): Condition {
  const progressing = s.deployment?.status?.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.status === 'False')
    return {
      type: 'Ready',
      status: 'False',
      reason: 'Failed',
      message: `its Deployment stopped progressing: ${progressing.message ?? progressing.reason ?? ''}`,
    };
  return {
    type: 'Ready',
    status: 'Unknown',
    reason: 'Starting',
    message: 'waiting for its first instance to become ready',
  };
}

/**
 * The status of one revision: Ready once it has had a ready instance (and for good, as Knative's
 * revisions: a revision at zero is `ScaledToZero`, not unready), its instance counts, and its share
 * of the traffic and tags as served.
 */
export function revisionStatus(s: RevisionState, served: ServedTarget[]): RevisionStatus {
  const c = counts(s);
  const previous = s.revision.status?.conditions;
  const ready: Condition = !s.everReady
    ? notReady(s)
    : c.readyReplicas > 0
      ? { type: 'Ready', status: 'True', reason: 'Serving', message: `${c.readyReplicas} instance(s) ready` }
      : {
          type: 'Ready',
          status: 'True',
          reason: 'ScaledToZero',
          message: 'no instance runs; the activator starts one for its next request',
        };
  const mine = served.filter((t) => t.revisionName === s.name);
  const tags = mine.flatMap((t) => (t.tag ? [t.tag] : [])).join(',');
  return {
    observedGeneration: s.revision.metadata.generation ?? 1,
    conditions: setCondition(previous, ready),
    ...c,
    traffic: mine.reduce((sum, t) => sum + t.percent, 0),
    ...(tags ? { tags } : {}),
  };
}

/** The Function's Ready condition: from the revisions that serve its traffic. */
export function servingCondition(states: RevisionState[], served: ServedTarget[]): Condition {
  const names = new Set(served.filter((t) => t.percent > 0).map((t) => t.revisionName));
  const serving = states.filter((s) => names.has(s.name));
  const ready = serving.reduce((n, s) => n + counts(s).readyReplicas, 0);
  if (ready > 0) return { type: 'Ready', status: 'True', reason: 'Serving', message: `${ready} instance(s) ready` };
  if (serving.length > 0 && serving.every((s) => s.everReady))
    return {
      type: 'Ready',
      status: 'True',
      reason: 'ScaledToZero',
      message: 'no instance runs; the activator starts one for the next request',
    };
  const failed = serving.map(notReady).find((c) => c.reason === 'Failed');
  if (failed) return { ...failed, message: `a revision in its traffic failed: ${failed.message}` };
  return {
    type: 'Ready',
    status: 'False',
    reason: 'Starting',
    message: 'waiting for the first instance to become ready',
  };
}

/** `LatestRevisionReady`: whether the newest revision (the current spec) has been ready; when not, where `latestRevision` traffic stays. */
export function latestCondition(states: RevisionState[], latestReady: string | undefined): Condition {
  const latest = states[states.length - 1];
  if (!latest || latest.everReady)
    return {
      type: 'LatestRevisionReady',
      status: 'True',
      reason: 'Ready',
      message: latest ? `${latest.name} is ready` : '',
    };
  const why = notReady(latest);
  const stays = latestReady ? `; latestRevision traffic stays on ${latestReady}` : '';
  return {
    type: 'LatestRevisionReady',
    status: why.status,
    reason: why.reason!,
    message: `${latest.name}: ${why.message}${stays}`,
  };
}

/** Instance counts summed over every revision. */
export function totals(
  states: RevisionState[],
): Pick<FunctionStatus, 'replicas' | 'readyReplicas' | 'desiredReplicas'> {
  const sum = (k: keyof ReturnType<typeof counts>) => states.reduce((n, s) => n + counts(s)[k], 0);
  return { replicas: sum('replicas'), readyReplicas: sum('readyReplicas'), desiredReplicas: sum('desiredReplicas') };
}

/** True when writing `next` would change nothing (conditions keep their transition times through setCondition). */
export const sameStatus = (current: unknown, next: unknown): boolean =>
  canonicalJson(current ?? {}) === canonicalJson(next);
