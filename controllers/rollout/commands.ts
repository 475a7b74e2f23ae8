/**
 * How people steer a Rollout: annotations written by `trellis rollout promote|abort|pause|resume`
 * (or `kubectl annotate`). A one-shot command names the exact state it acts on — revision, attempt
 * and step — so a command given against an older state (a later step, a new revision, a retry)
 * does nothing: the controller compares, it never counts.
 */
import type { Rollout, RolloutStatus } from './types.js';

/** `"true"` while paused by a person: the rollout stays where it is (analysis goes on). */
export const ANNOTATION_PAUSED = 'delivery.trellis.dev/paused';
/** `<revision>/<attempt>/<step index>` completes that step now; `<revision>/<attempt>/full` skips to the end. */
export const ANNOTATION_PROMOTE = 'delivery.trellis.dev/promote';
/** `<revision>/<attempt>`: roll back to the stable revision. */
export const ANNOTATION_ABORT = 'delivery.trellis.dev/abort';
/** `<revision>/<attempt>` of an aborted or rolled back attempt: try that revision again from the first step. */
export const ANNOTATION_RETRY = 'delivery.trellis.dev/retry';

export interface Commands {
  paused: boolean;
  promote?: string;
  abort?: string;
  retry?: string;
}

export function commandsOf(rollout: Pick<Rollout, 'metadata'>): Commands {
  const a = rollout.metadata.annotations ?? {};
  return {
    paused: a[ANNOTATION_PAUSED] === 'true',
    ...(a[ANNOTATION_PROMOTE] ? { promote: a[ANNOTATION_PROMOTE] } : {}),
    ...(a[ANNOTATION_ABORT] ? { abort: a[ANNOTATION_ABORT] } : {}),
    ...(a[ANNOTATION_RETRY] ? { retry: a[ANNOTATION_RETRY] } : {}),
  };
}

/** `web-v2/1`: the attempt a command acts on; undefined while nothing rolls out. */
export function attemptToken(status: RolloutStatus | undefined): string | undefined {
  return status?.canaryRevision ? `${status.canaryRevision}/${status.attempt ?? 1}` : undefined;
}

/** The value of {@link ANNOTATION_PROMOTE} that completes the current step (or, with `full`, the whole rollout). */
export function promoteToken(status: RolloutStatus | undefined, full: boolean): string | undefined {
  const attempt = attemptToken(status);
  if (!attempt) return undefined;
  return `${attempt}/${full ? 'full' : (status?.currentStep ?? 0)}`;
}
