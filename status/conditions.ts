import type { Condition } from '../kube/types.js';

/**
 * Sets `next` in `conditions` (by type) and returns the new list. `lastTransitionTime` moves only
 * when the status changes, so a person can tell how long something has been the way it is.
 *
 * @example
 *   status.conditions = setCondition(status.conditions, { type: 'Synced', status: 'True', reason: 'Applied', message: '3 objects' })
 */
export function setCondition(
  conditions: Condition[] | undefined,
  next: Condition,
  now: Date = new Date(),
): Condition[] {
  const list = conditions ?? [];
  const old = list.find((c) => c.type === next.type);
  const lastTransitionTime =
    old && old.status === next.status && old.lastTransitionTime
      ? old.lastTransitionTime
      : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const updated: Condition = { ...next, lastTransitionTime };
  return old ? list.map((c) => (c.type === next.type ? updated : c)) : [...list, updated];
}

export function getCondition(conditions: Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** True when the condition of `type` has status `True`. */
export function isTrue(conditions: Condition[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === 'True';
}
