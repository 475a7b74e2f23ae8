import type { GitSync, GitSyncResult, GitSyncStatus } from '../apis/generated/gitops.trellis.dev-v1alpha1.js';
import { isSuspended } from '../apis/labels.js';
import type { Condition } from '../kube/types.js';
import { handledRequest, withoutSuspended } from '../status/suspend.js';

export type SyncResultKind = GitSyncResult['result'];

/** How many sync results `status.history` keeps. */
export const HISTORY_LENGTH = 10;

/** Reasons on the `Ready` condition for each result. */
const READY_REASON: Record<SyncResultKind, string> = {
  Applied: 'Synced',
  Unchanged: 'Synced',
  FetchFailed: 'FetchFailed',
  InvalidManifests: 'InvalidManifests',
  Rejected: 'Rejected',
  Forbidden: 'Forbidden',
  ApplyFailed: 'ApplyFailed',
  PruneFailed: 'PruneFailed',
  OwnershipConflict: 'OwnershipConflict',
};

export { parseDuration } from '../lib/duration.js';

/** A GitSync is suspended by `spec.suspend` (Flux's field) or by `trellis suspend` (the `trellis.dev/suspend` annotation). */
export function gitSyncSuspended(gs: GitSync): boolean {
  return !!gs.spec.suspend || isSuspended(gs);
}

/** A condition, keeping `lastTransitionTime` when the status did not change. */
export function condition(
  previous: Condition[] | undefined,
  type: string,
  status: Condition['status'],
  reason: string,
  message: string,
  generation: number | undefined,
  now: string,
): Condition {
  const old = previous?.find((c) => c.type === type);
  return {
    type,
    status,
    reason,
    message,
    lastTransitionTime: old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : now,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
}

export interface SyncReport {
  result: SyncResultKind;
  message: string;
  /** The commit fetched, when the fetch worked. */
  commit?: string;
  applied?: number;
  pruned?: number;
  durationMs: number;
  /** The inventory to record (unchanged when absent). */
  inventory?: GitSyncStatus['inventory'];
}

/**
 * The next status of a GitSync after one sync attempt: conditions `Fetched`, `Applied`, `Ready`,
 * the commits, the inventory and the newest-first history. A failure keeps `lastAppliedCommit`
 * (the last good state still runs) and says why on the conditions.
 */
export function nextStatus(gs: GitSync, report: SyncReport, now = new Date().toISOString()): GitSyncStatus {
  const prev = gs.status ?? {};
  const conditions = withoutSuspended(prev.conditions);
  const generation = gs.metadata.generation;
  const ok = report.result === 'Applied' || report.result === 'Unchanged';
  const fetched = report.result !== 'FetchFailed';
  // A commit applied but for objects someone else holds is the commit that runs.
  const lastAppliedCommit = ok || report.result === 'OwnershipConflict' ? report.commit : prev.lastAppliedCommit;
  const appliedMessage = ok
    ? `applied commit ${report.commit?.slice(0, 12)}`
    : `${report.message}${lastAppliedCommit && lastAppliedCommit !== report.commit ? ` — still running commit ${lastAppliedCommit.slice(0, 12)}` : ''}`;
  const status: GitSyncStatus = {
    observedGeneration: generation,
    conditions: [
      condition(
        conditions,
        'Fetched',
        fetched ? 'True' : 'False',
        fetched ? 'Fetched' : 'FetchFailed',
        fetched ? `fetched commit ${report.commit?.slice(0, 12)}` : report.message,
        generation,
        now,
      ),
      fetched
        ? condition(
            conditions,
            'Applied',
            ok ? 'True' : 'False',
            ok ? 'Applied' : READY_REASON[report.result],
            appliedMessage,
            generation,
            now,
          )
        : (conditions?.find((c) => c.type === 'Applied') ??
          condition(conditions, 'Applied', 'Unknown', 'NotFetched', 'nothing fetched yet', generation, now)),
      condition(
        conditions,
        'Ready',
        ok ? 'True' : 'False',
        READY_REASON[report.result],
        ok ? appliedMessage : `${report.result}: ${appliedMessage}`,
        generation,
        now,
      ),
    ],
    lastFetchedCommit: fetched ? report.commit : prev.lastFetchedCommit,
    lastAppliedCommit,
    lastSyncTime: now,
    ...handledRequest(gs),
    inventory: report.inventory ?? prev.inventory ?? [],
    history: [
      {
        time: now,
        result: report.result,
        message: report.message,
        durationMs: Math.round(report.durationMs),
        ...(report.commit ? { commit: report.commit } : {}),
        ...(report.applied !== undefined ? { applied: report.applied } : {}),
        ...(report.pruned !== undefined ? { pruned: report.pruned } : {}),
      },
      // A run of unchanged drift checks on one commit is one entry (its time moves on), so the
      // history keeps the results worth reading.
      ...(report.result === 'Unchanged' &&
      prev.history?.[0]?.result === 'Unchanged' &&
      prev.history[0].commit === report.commit
        ? prev.history.slice(1)
        : (prev.history ?? [])),
    ].slice(0, HISTORY_LENGTH),
  };
  for (const key of Object.keys(status) as (keyof GitSyncStatus)[]) if (status[key] === undefined) delete status[key];
  return status;
}
