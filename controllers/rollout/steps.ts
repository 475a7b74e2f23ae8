import { parseDuration } from '../../lib/duration.js';
import type { RolloutSpec } from './types.js';

/** One step as the state machine runs it. */
export interface PlannedStep {
  /** The new revision's share of the traffic in percent, from this step on. */
  weight: number;
  /** How long to wait once the weight is in place: ms, `'promote'` (until promoted) or 0. */
  pause: number | 'promote';
  /** Blue-green: the new revision is reachable on the preview route. */
  preview: boolean;
  /** Its metrics are measured (and must pass once) before it completes. */
  analysed: boolean;
}

/**
 * The steps a Rollout runs. Canary: `spec.steps` (a step without `weight` keeps the previous one;
 * without steps the new revision takes all traffic in one step). Blue-green: one preview step at 0%
 * that waits `autoPromoteAfter` (or for promote); the switch follows it. With `spec.analysis`,
 * every step that sends the new revision traffic (or previews it) is analysed.
 */
export function plannedSteps(spec: RolloutSpec): PlannedStep[] {
  const analysis = !!spec.analysis?.metrics?.length;
  if (spec.strategy === 'blueGreen') {
    const after = spec.blueGreen?.autoPromoteAfter;
    return [{ weight: 0, pause: after ? parseDuration(after, 0) : 'promote', preview: true, analysed: analysis }];
  }
  const steps = spec.steps?.length ? spec.steps : [{ weight: 100 }];
  let weight = 0;
  return steps.map((s) => {
    weight = s.weight ?? weight;
    const pause = s.pause ? (s.pause.duration ? parseDuration(s.pause.duration, 0) : 'promote') : 0;
    return { weight, pause, preview: false, analysed: analysis && weight > 0 };
  });
}

/** `20% to web-v2` / `preview of web-v2`: what a step does, for messages. */
export function describeStep(step: PlannedStep, canary: string): string {
  return step.preview ? `preview of ${canary}` : `${step.weight}% to ${canary}`;
}
