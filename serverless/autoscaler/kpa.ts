import type { FunctionConfig } from '../function/config.js';

/** What one decision looks at. Times in ms. */
export interface KpaInputs {
  now: number;
  /** Average concurrency over the stable window. */
  stable: number;
  /** Average concurrency over the panic window. */
  panic: number;
  /** Concurrency right now, when a burst triggered the decision (counts as panic input). */
  burst?: number;
  /** Requests that arrived, and the peak concurrency, within the stable window. */
  stableArrivals: number;
  stableMax: number;
  /** How much of the stable window has been observed (less after a restart). */
  coveredMs: number;
  /** Instances ready to serve. */
  ready: number;
  /** Replicas now (the Deployment's, or what was last written). */
  current: number;
  /** Time since the last request arrived or finished (Infinity: none since start). */
  idleMs: number;
}

export interface KpaState {
  /** When panic mode was last entered or re-affirmed; undefined when not panicking. */
  panicSince?: number;
  /** Highest desired count during this panic (panic never scales down). */
  panicDesired: number;
}

export interface KpaDecision {
  desired: number;
  stableDesired: number;
  panicDesired: number;
  panicking: boolean;
  /** Why the result is what it is, for Events and logs. */
  reason: string;
}

/**
 * Knative's KPA, as a pure function: desired = ceil(concurrency / target) over the stable window,
 * or over the panic window while panicking (entered when the panic window asks for ≥ threshold ×
 * the ready instances, left after a stable window without that; no scale-down while panicking);
 * bounded by the max scale-up/down rates and min/max scale. Scale to zero only when the whole
 * stable window was observed and saw no request, and the idle grace has passed since the last one.
 *
 * @example
 *   const { decision, state } = decide(config, inputs, { panicDesired: 0 })
 */
export function decide(
  config: FunctionConfig,
  inputs: KpaInputs,
  previous: KpaState,
): { decision: KpaDecision; state: KpaState } {
  const { target, scale } = config;
  const stableWindowMs = scale.stableWindowSeconds * 1000;
  const readyForCalc = Math.max(1, inputs.ready);
  const maxUp = Math.ceil(scale.maxScaleUpRate * readyForCalc);
  const maxDown = Math.floor(readyForCalc / scale.maxScaleDownRate);
  const clampRate = (n: number) => (inputs.ready > 0 ? Math.max(maxDown, Math.min(maxUp, n)) : n);
  const stableDesired = clampRate(Math.ceil(inputs.stable / target));
  const panicDesired = clampRate(Math.ceil(Math.max(inputs.panic, inputs.burst ?? 0) / target));

  const state: KpaState = { ...previous };
  const overThreshold = panicDesired / readyForCalc >= scale.panicThreshold && panicDesired > inputs.ready;
  if (overThreshold) state.panicSince = inputs.now;
  else if (state.panicSince !== undefined && inputs.now - state.panicSince >= stableWindowMs)
    state.panicSince = undefined;

  let desired: number;
  let reason: string;
  if (state.panicSince !== undefined) {
    desired = Math.max(panicDesired, state.panicDesired, inputs.current);
    state.panicDesired = desired;
    reason = overThreshold
      ? `panic: concurrency ${fmt(Math.max(inputs.panic, inputs.burst ?? 0))} needs ${panicDesired} instances, ≥ ${scale.panicThreshold}× the ${inputs.ready} ready`
      : 'panic: holding the panic size until a stable window passes';
  } else {
    state.panicDesired = 0;
    desired = stableDesired;
    reason = `stable: average concurrency ${fmt(inputs.stable)} over ${scale.stableWindowSeconds} s at target ${target}`;
  }

  if (config.maxScale > 0 && desired > config.maxScale) {
    desired = config.maxScale;
    reason += `; capped at scale.max ${config.maxScale}`;
  }
  if (desired < config.minScale) {
    desired = config.minScale;
    reason += `; kept at scale.min ${config.minScale}`;
  }
  if (desired === 0 && inputs.current > 0) {
    const fullWindow = inputs.coveredMs >= stableWindowMs * 0.95;
    const quiet = inputs.stableArrivals === 0 && inputs.stableMax === 0;
    const graceMs = scale.idleGraceSeconds * 1000;
    if (!fullWindow || !quiet || inputs.idleMs < graceMs) {
      desired = 1;
      reason = !fullWindow
        ? 'keeping one instance: the stable window has not been fully observed yet'
        : !quiet
          ? 'keeping one instance: the stable window saw requests'
          : `keeping one instance: idle for ${fmt(inputs.idleMs / 1000)} s of the ${scale.idleGraceSeconds} s grace`;
    } else
      reason = `scale to zero: no request for ${fmt(inputs.idleMs / 1000)} s (stable window ${scale.stableWindowSeconds} s, grace ${scale.idleGraceSeconds} s)`;
  }
  // A restarted autoscaler has not seen a whole window: it may grow, never shrink, until it has.
  if (desired < inputs.current && desired > 0 && inputs.coveredMs < stableWindowMs * 0.95) {
    desired = inputs.current;
    reason = 'holding: the stable window has not been fully observed yet';
  }
  return {
    decision: { desired, stableDesired, panicDesired, panicking: state.panicSince !== undefined, reason },
    state,
  };
}

const fmt = (n: number): string => (Number.isFinite(n) ? (Math.round(n * 100) / 100).toString() : '∞');
