import { ANNOTATION_RECONCILE_REQUESTED, ANNOTATION_SUSPEND } from '../apis/labels.js';
import type { Condition } from '../kube/types.js';
import { isTrue, setCondition } from './conditions.js';

/**
 * The condition (and its reason) a suspended ApplicationConfiguration, Application or GitSync
 * carries while {@link ANNOTATION_SUSPEND} is `"true"`; removed by the first pass after `trellis resume`.
 */
export const SUSPENDED = 'Suspended';

/**
 * What a suspended object's `Suspended` condition and Event say.
 * @param by what suspends it and how to undo that. @default the annotation and `trellis resume`
 */
export function suspendedMessage(by = `${ANNOTATION_SUSPEND} is "true"; \`trellis resume\` removes it`): string {
  return `suspended (${by}): nothing is applied or pruned and drift is not corrected until it is resumed`;
}

/** Conditions of a suspended object: `Suspended=True` added (its transition time kept while it stays). */
export function suspendedConditions(
  conditions: Condition[] | undefined,
  message: string,
  generation?: number,
): Condition[] {
  return setCondition(conditions, {
    type: SUSPENDED,
    status: 'True',
    reason: SUSPENDED,
    message,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  });
}

/** Conditions of an object being reconciled again: without the `Suspended` condition. */
export function withoutSuspended(conditions: Condition[] | undefined): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== SUSPENDED);
}

/** True while the last status written says the object is suspended (so the next full pass is a resume). */
export function wasSuspended(conditions: Condition[] | undefined): boolean {
  return isTrue(conditions, SUSPENDED);
}

/** The reconcile request on `obj` ({@link ANNOTATION_RECONCILE_REQUESTED}), if any. */
export function reconcileRequest(obj: { metadata?: { annotations?: Record<string, string> } }): string | undefined {
  return obj.metadata?.annotations?.[ANNOTATION_RECONCILE_REQUESTED] || undefined;
}

/**
 * True when `obj` asks for a reconcile its status has not recorded as handled yet: the controller
 * then does a full pass even where it would skip one (ADR 0008's fingerprint), and records the value.
 */
export function reconcileRequested(obj: {
  metadata?: { annotations?: Record<string, string> };
  status?: { lastHandledReconcileAt?: string };
}): boolean {
  const requested = reconcileRequest(obj);
  return requested !== undefined && requested !== obj.status?.lastHandledReconcileAt;
}

/** `{ lastHandledReconcileAt }` to spread into a status: the request handled by this pass, else the one before. */
export function handledRequest(obj: {
  metadata?: { annotations?: Record<string, string> };
  status?: { lastHandledReconcileAt?: string };
}): { lastHandledReconcileAt?: string } {
  const value = reconcileRequest(obj) ?? obj.status?.lastHandledReconcileAt;
  return value ? { lastHandledReconcileAt: value } : {};
}
