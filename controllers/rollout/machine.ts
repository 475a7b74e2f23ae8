/**
 * The rollout state machine, pure: the Rollout's spec and status, what was observed (the new
 * revision's health, commands, measurements) and the time in; the next status, the Events to
 * record and when to look again out. Time only ever arrives as `now`, so tests drive it step by step.
 *
 *   Healthy ──new revision──▶ Progressing ⇄ Paused ──last step──▶ Healthy (new revision stable)
 *                                  │  analysis fails / abort
 *                                  ▼
 *                       RolledBack / Aborted ──resume──▶ Progressing (attempt + 1)
 */
import { cloneJson } from '../../lib/clone.js';
import { formatDuration, parseDuration } from '../../lib/duration.js';
import type { Health } from '../../status/health.js';
import { attemptToken, type Commands } from './commands.js';
import { describeStep, plannedSteps, type PlannedStep } from './steps.js';
import type { MetricResult, RolloutSpec, RolloutStatus } from './types.js';

export interface Observation {
  now: Date;
  /** Health of the workload of the revision being rolled out (the Rollout's target). */
  canary: Health;
  /** The stable revision's workload exists (else there is nothing to protect: switch at once). */
  stableRunning: boolean;
  commands: Commands;
  /** Measurements taken for this transition (only when {@link analysisDue} said so). */
  measurements?: MetricResult[];
  /** Why the spec has no revision yet (for the message). */
  waiting?: string;
}

export interface RolloutEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface Transition {
  status: RolloutStatus;
  events: RolloutEvent[];
  /** Look again after this long (a pause ends, a measurement is due, the old revision may stop). */
  requeueAfterMs?: number;
}

/** Names for messages: the AppConfig and component, as `trellis rollout` takes them. */
export interface Names {
  app: string;
  component: string;
}

const DEFAULT_INTERVAL_MS = 30_000;
const DEFAULT_SCALE_DOWN_DELAY_MS = 30_000;

/** The next state. `previous` is the Rollout's status as it is (empty for a new Rollout). */
export function transition(
  spec: RolloutSpec,
  previous: RolloutStatus | undefined,
  o: Observation,
  names: Names,
): Transition {
  const m = new Machine(spec, cloneJson(previous ?? {}), o, names);
  return m.run();
}

/** True when the current step's metrics should be measured before the next transition. */
export function analysisDue(spec: RolloutSpec, status: RolloutStatus | undefined, now: Date): boolean {
  const step = currentStep(spec, status);
  if (!step?.analysed || !status?.stepStartedAt || status.abortedRevision === status.canaryRevision) return false;
  return now.getTime() >= nextMeasurementAt(spec, status);
}

function currentStep(spec: RolloutSpec, status: RolloutStatus | undefined): PlannedStep | undefined {
  if (!status?.canaryRevision) return undefined;
  return plannedSteps(spec)[status.currentStep ?? 0];
}

/** The first measurement of a step comes one interval after its weight moved (so metrics reflect it). */
function nextMeasurementAt(spec: RolloutSpec, status: RolloutStatus): number {
  const interval = parseDuration(spec.analysis?.interval, DEFAULT_INTERVAL_MS);
  const started = Date.parse(status.stepStartedAt ?? '');
  const last = Date.parse(status.analysis?.lastMeasuredAt ?? '');
  return Math.max(started, Number.isNaN(last) ? -Infinity : last) + interval;
}

/** `10:01:30Z`: a time of day in messages (stable across reconciles, unlike "in 25s"). */
function clock(ms: number): string {
  return new Date(Math.ceil(ms / 1000) * 1000).toISOString().slice(11, 19) + 'Z';
}

class Machine {
  private readonly events: RolloutEvent[] = [];
  private readonly steps: PlannedStep[];
  private readonly now: string;

  constructor(
    private readonly spec: RolloutSpec,
    private readonly s: RolloutStatus,
    private readonly o: Observation,
    private readonly names: Names,
  ) {
    this.steps = plannedSteps(spec);
    this.now = o.now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  run(): Transition {
    const { s, o } = this;
    const target = this.spec.revision;
    if (!target)
      return this.done({
        message: o.waiting ?? 'waiting for the component to have a revision (is the Component controller running?)',
      });
    if (!s.stableRevision) {
      this.steady(target);
      this.event('Normal', 'Initialized', `${target} takes all traffic`);
    } else if (target === s.stableRevision) {
      if (s.canaryRevision) {
        this.event(
          'Normal',
          'Cancelled',
          `${s.canaryRevision} is no longer the component's revision: ${target} keeps all traffic`,
        );
        this.steady(target);
      }
    } else if (target !== s.canaryRevision) {
      if (!o.stableRunning) {
        this.event(
          'Normal',
          'Switched',
          `the stable revision ${s.stableRevision} is not running: ${target} takes all traffic at once`,
        );
        this.steady(target);
      } else {
        if (s.canaryRevision && s.abortedRevision !== s.canaryRevision)
          this.event('Normal', 'Superseded', `${s.canaryRevision} gave way to ${target} before it finished`);
        this.start(target, 1);
        this.event(
          'Normal',
          'Started',
          `rolling out ${target} (${this.spec.strategy ?? 'canary'}, ${this.steps.length} step${this.steps.length === 1 ? '' : 's'}); ${s.stableRevision} keeps serving`,
        );
      }
    }
    if (!s.canaryRevision) return this.steadyState();
    return this.rollingOut();
  }

  private rollingOut(): Transition {
    const { s, o } = this;
    const canary = s.canaryRevision!;
    if (s.abortedRevision === canary) {
      const token = attemptToken(s)!;
      if (o.commands.retry === token) {
        this.start(canary, (s.attempt ?? 1) + 1);
        this.event('Normal', 'Retried', `trying ${canary} again (attempt ${s.attempt})`);
      } else if (o.commands.promote === `${token}/full`) {
        return this.complete('promoted in full by `trellis rollout promote --full`');
      } else {
        return this.done({ revisions: [s.stableRevision!, canary] });
      }
    }
    const token = attemptToken(s)!;
    if (o.commands.abort === token) return this.rollBack('Aborted', 'aborted by `trellis rollout abort`');
    if (o.measurements?.length) {
      const verdict = this.record(o.measurements);
      if (verdict) return verdict;
    }
    if (o.commands.promote === `${token}/full`)
      return this.complete('promoted in full by `trellis rollout promote --full`');
    for (;;) {
      const index = s.currentStep ?? 0;
      const step = this.steps[index];
      if (!step) return this.complete(`all ${this.steps.length} step${this.steps.length === 1 ? '' : 's'} passed`);
      if (o.canary.status !== 'HEALTHY') {
        return this.waiting(
          'Progressing',
          `step ${this.stepText()}: waiting for ${canary} to be ready (${o.canary.message})`,
          `${describeStep(step, canary)} once ${canary} is ready`,
        );
      }
      if (!s.stepStartedAt) this.enterStep(step);
      const promoted = o.commands.promote === `${token}/${index}`;
      if (o.commands.paused && !promoted) {
        return this.waiting(
          'Paused',
          `step ${this.stepText()}: paused by \`trellis rollout pause\` (${describeStep(step, canary)})`,
          `resume with \`${this.cli('resume')}\``,
        );
      }
      const left = step.pause === 'promote' ? Infinity : Date.parse(s.stepStartedAt!) + step.pause - o.now.getTime();
      const measuring = step.analysed && (s.analysis?.successful ?? 0) < 1;
      if (promoted || (left <= 0 && !measuring)) {
        if (promoted)
          this.event(
            'Normal',
            'Promoted',
            `step ${this.stepText()} (${describeStep(step, canary)}) promoted by \`trellis rollout promote\``,
          );
        s.currentStep = index + 1;
        delete s.stepStartedAt;
        continue;
      }
      return this.waitInStep(step, left, measuring);
    }
  }

  /** The step's weight goes in place; its pause and analysis count from now. */
  private enterStep(step: PlannedStep): void {
    const { s } = this;
    s.stepStartedAt = this.now;
    this.setWeights(step.weight);
    s.analysis = { ...s.analysis, successful: 0, failed: s.analysis?.failed ?? 0 };
    this.event('Normal', 'StepStarted', `step ${this.stepText()}: ${describeStep(step, s.canaryRevision!)}`);
  }

  private waitInStep(step: PlannedStep, left: number, measuring: boolean): Transition {
    const { s } = this;
    const canary = s.canaryRevision!;
    const what = describeStep(step, canary);
    const measureIn = step.analysed ? Math.max(0, nextMeasurementAt(this.spec, s) - this.o.now.getTime()) : Infinity;
    const requeue = Math.min(left > 0 ? left : Infinity, measureIn);
    const analysis = measuring
      ? `; waiting for a passing measurement (next at ${clock(this.o.now.getTime() + measureIn)})`
      : '';
    if (left === Infinity) {
      return this.waiting(
        'Paused',
        `step ${this.stepText()}: ${what}, paused until promoted${analysis}`,
        `promote with \`${this.cli('promote')}\` (or abort with \`${this.cli('abort')}\`)`,
        requeue,
      );
    }
    const next = this.steps[(s.currentStep ?? 0) + 1];
    const then = next ? describeStep(next, canary) : `${canary} takes all traffic`;
    const pause =
      left > 0 ? ` for ${formatDuration(step.pause as number)} (until ${clock(this.o.now.getTime() + left)})` : '';
    return this.waiting('Progressing', `step ${this.stepText()}: ${what}${pause}${analysis}`, `then ${then}`, requeue);
  }

  /** Records measurements; rolls back when failures exceed the limit. */
  private record(measurements: MetricResult[]): Transition | undefined {
    const { s } = this;
    const failed = measurements.filter((r) => r.phase === 'Failed');
    const previous = s.analysis ?? {};
    s.analysis = {
      ...previous,
      successful: previous.successful ?? 0,
      failed: previous.failed ?? 0,
      lastMeasuredAt: this.now,
      results: measurements,
    };
    if (failed.length) {
      s.analysis.failed = (s.analysis.failed ?? 0) + 1;
      const what = failed.map((r) => `${r.name}: ${r.message ?? ''}`).join('; ');
      const limit = this.spec.analysis?.failureLimit ?? 0;
      if (s.analysis.failed > limit)
        return this.rollBack('RolledBack', `analysis failed at step ${this.stepText()}: ${what}`);
      this.event('Warning', 'AnalysisFailed', `${what} (${s.analysis.failed} of ${limit} failures tolerated)`);
    } else if (measurements.every((r) => r.phase === 'Successful')) {
      s.analysis.successful = (s.analysis.successful ?? 0) + 1;
    }
    return undefined;
  }

  private rollBack(phase: 'RolledBack' | 'Aborted', reason: string): Transition {
    const { s } = this;
    const canary = s.canaryRevision!;
    const stable = s.stableRevision!;
    s.abortedRevision = canary;
    this.setWeights(0);
    s.weights = [{ revision: stable, weight: 100 }];
    delete s.stepStartedAt;
    this.event('Warning', phase, `${reason}; ${stable} takes all traffic again`);
    return this.done({
      phase,
      message: `${canary} ${phase === 'Aborted' ? 'aborted' : 'rolled back'}: ${reason}; ${stable} takes all traffic`,
      nextAction: `fix the component (its next revision starts a new rollout), or try ${canary} again with \`${this.cli('resume')}\``,
      revisions: [stable, canary],
    });
  }

  /** The new revision takes all traffic and becomes stable; the old one runs on for scaleDownDelay. */
  private complete(reason: string): Transition {
    const { s } = this;
    const canary = s.canaryRevision!;
    const previous = s.stableRevision!;
    this.steady(canary);
    s.previousStableRevision = previous;
    s.promotedAt = this.now;
    this.event(
      'Normal',
      'Completed',
      `${canary} takes all traffic (${reason}); ${previous} stops after ${this.spec.scaleDownDelay ?? '30s'}`,
    );
    return this.steadyState();
  }

  private steadyState(): Transition {
    const { s } = this;
    const delay = parseDuration(this.spec.scaleDownDelay, DEFAULT_SCALE_DOWN_DELAY_MS);
    const left = s.previousStableRevision && s.promotedAt ? Date.parse(s.promotedAt) + delay - this.o.now.getTime() : 0;
    if (s.previousStableRevision && left <= 0) delete s.previousStableRevision;
    const revisions = [s.stableRevision!, ...(s.previousStableRevision ? [s.previousStableRevision] : [])];
    return this.done({
      phase: 'Healthy',
      message: `${s.stableRevision} takes all traffic${s.previousStableRevision ? `; ${s.previousStableRevision} stops at ${clock(this.o.now.getTime() + left)}` : ''}`,
      nextAction: 'the next revision of the component starts a rollout',
      revisions,
      ...(left > 0 ? { requeueAfterMs: left } : {}),
    });
  }

  private start(canary: string, attempt: number): void {
    const { s } = this;
    s.canaryRevision = canary;
    s.attempt = attempt;
    s.currentStep = 0;
    delete s.stepStartedAt;
    delete s.abortedRevision;
    s.analysis = { successful: 0, failed: 0 };
    this.setWeights(0);
  }

  private steady(revision: string): void {
    const { s } = this;
    s.stableRevision = revision;
    for (const k of [
      'canaryRevision',
      'attempt',
      'currentStep',
      'step',
      'stepStartedAt',
      'analysis',
      'abortedRevision',
      'previousStableRevision',
      'promotedAt',
    ] as const)
      delete s[k];
    s.canaryWeight = 0;
    s.weights = [{ revision, weight: 100 }];
  }

  private setWeights(canaryWeight: number): void {
    const { s } = this;
    s.canaryWeight = canaryWeight;
    s.weights = [
      { revision: s.stableRevision!, weight: 100 - canaryWeight },
      { revision: s.canaryRevision!, weight: canaryWeight },
    ];
  }

  private waiting(
    phase: 'Progressing' | 'Paused',
    message: string,
    nextAction: string,
    requeueAfterMs?: number,
  ): Transition {
    return this.done({
      phase,
      message,
      nextAction,
      revisions: [this.s.stableRevision!, this.s.canaryRevision!],
      ...(requeueAfterMs !== undefined && Number.isFinite(requeueAfterMs) ? { requeueAfterMs } : {}),
    });
  }

  private done(d: {
    phase?: RolloutStatus['phase'];
    message?: string;
    nextAction?: string;
    revisions?: string[];
    requeueAfterMs?: number;
  }): Transition {
    const { s } = this;
    if (d.phase) s.phase = d.phase;
    if (d.message !== undefined) s.message = d.message;
    if (d.nextAction !== undefined) s.nextAction = d.nextAction;
    if (d.revisions) s.revisions = [...new Set(d.revisions)];
    if (s.canaryRevision && s.abortedRevision !== s.canaryRevision) s.step = this.stepText();
    else delete s.step;
    return {
      status: s,
      events: this.events,
      ...(d.requeueAfterMs !== undefined ? { requeueAfterMs: Math.max(0, Math.ceil(d.requeueAfterMs)) } : {}),
    };
  }

  private stepText(): string {
    return `${Math.min((this.s.currentStep ?? 0) + 1, this.steps.length)}/${this.steps.length}`;
  }

  private cli(verb: string): string {
    return `trellis rollout ${verb} ${this.names.app} --component ${this.names.component}`;
  }

  private event(type: RolloutEvent['type'], reason: string, message: string): void {
    this.events.push({ type, reason, message });
  }
}
