import assert from 'node:assert/strict';
import type { Commands } from './commands.js';
import { analysisDue, transition, type Observation, type Transition } from './machine.js';
import type { MetricResult, RolloutSpec, RolloutStatus } from './types.js';

type Analysis = NonNullable<RolloutSpec['analysis']>;
const names = { app: 'shop', component: 'web' };
const ready = { status: 'HEALTHY' as const, message: '1/1 ready' };
const notReady = { status: 'UNHEALTHY' as const, message: '0/1 ready' };
const t0 = Date.parse('2026-11-23T10:00:00Z');
const at = (seconds: number) => new Date(t0 + seconds * 1000);

const canarySpec = (revision: string, extra: Partial<RolloutSpec> = {}): RolloutSpec => ({
  component: 'web',
  revision,
  strategy: 'canary',
  port: 80,
  steps: [
    { weight: 20, pause: {} },
    { weight: 50, pause: { duration: '1m' } },
  ],
  ...extra,
});

/** Runs one transition; `commands` default to none. */
function step(
  spec: RolloutSpec,
  status: RolloutStatus | undefined,
  o: Partial<Observation> & { now: Date },
  commands: Partial<Commands> = {},
): Transition {
  return transition(
    spec,
    status,
    { canary: ready, stableRunning: true, ...o, commands: { paused: false, ...commands } },
    names,
  );
}

const weights = (t: Transition) => Object.fromEntries((t.status.weights ?? []).map((w) => [w.revision, w.weight]));
const reasons = (t: Transition) => t.events.map((e) => e.reason);
const measured = (phase: MetricResult['phase'], value: number, message = ''): MetricResult[] => [
  { name: 'success-rate', phase, value, message },
];

describe('rollout state machine: transition()', () => {
  it('a new Rollout makes its revision stable with all traffic', () => {
    const t = step(canarySpec('web-v1'), undefined, { now: at(0) });
    assert.equal(t.status.phase, 'Healthy');
    assert.equal(t.status.stableRevision, 'web-v1');
    assert.deepEqual(weights(t), { 'web-v1': 100 });
    assert.deepEqual(t.status.revisions, ['web-v1']);
    assert.deepEqual(reasons(t), ['Initialized']);
  });

  it('walks a canary through its steps: wait for ready, 20% until promoted, 50% for a minute, then all traffic', () => {
    const stable = step(canarySpec('web-v1'), undefined, { now: at(0) }).status;
    const spec = canarySpec('web-v2');

    const waiting = step(spec, stable, { now: at(1), canary: notReady });
    assert.equal(waiting.status.phase, 'Progressing');
    assert.equal(waiting.status.canaryRevision, 'web-v2');
    assert.deepEqual(weights(waiting), { 'web-v1': 100, 'web-v2': 0 }, 'no traffic before the new revision is ready');
    assert.match(waiting.status.message!, /waiting for web-v2 to be ready \(0\/1 ready\)/);
    assert.deepEqual(waiting.status.revisions, ['web-v1', 'web-v2']);
    assert.deepEqual(reasons(waiting), ['Started']);

    const paused = step(spec, waiting.status, { now: at(2) });
    assert.equal(paused.status.phase, 'Paused');
    assert.equal(paused.status.step, '1/2');
    assert.deepEqual(weights(paused), { 'web-v1': 80, 'web-v2': 20 });
    assert.equal(paused.requeueAfterMs, undefined, 'an open-ended pause needs no timer');
    assert.match(paused.status.nextAction!, /trellis rollout promote shop --component web/);

    const still = step(spec, paused.status, { now: at(600) });
    assert.equal(still.status.phase, 'Paused', 'no time ends a pause without duration');

    const promoted = step(spec, paused.status, { now: at(3) }, { promote: 'web-v2/1/0' });
    assert.equal(promoted.status.phase, 'Progressing');
    assert.equal(promoted.status.step, '2/2');
    assert.deepEqual(weights(promoted), { 'web-v1': 50, 'web-v2': 50 });
    assert.equal(promoted.requeueAfterMs, 60_000);
    assert.deepEqual(reasons(promoted), ['Promoted', 'StepStarted']);

    const early = step(spec, promoted.status, { now: at(62) }, { promote: 'web-v2/1/0' });
    assert.equal(early.status.step, '2/2', 'the earlier promote does not promote the next step');
    assert.equal(early.requeueAfterMs, 1000);

    const done = step(spec, early.status, { now: at(63) }, { promote: 'web-v2/1/0' });
    assert.equal(done.status.phase, 'Healthy');
    assert.equal(done.status.stableRevision, 'web-v2');
    assert.equal(done.status.canaryRevision, undefined);
    assert.deepEqual(weights(done), { 'web-v2': 100 });
    assert.deepEqual(done.status.revisions, ['web-v2', 'web-v1'], 'the previous revision runs on for scaleDownDelay');
    assert.equal(done.requeueAfterMs, 30_000);
    assert.deepEqual(reasons(done), ['Completed']);

    const later = step(spec, done.status, { now: at(93) });
    assert.deepEqual(later.status.revisions, ['web-v2']);
    assert.equal(later.status.previousStableRevision, undefined);
    assert.equal(later.requeueAfterMs, undefined);
  });

  it('promote --full skips the remaining steps', () => {
    const stable = step(canarySpec('web-v1'), undefined, { now: at(0) }).status;
    const paused = step(canarySpec('web-v2'), stable, { now: at(1) });
    const done = step(canarySpec('web-v2'), paused.status, { now: at(2) }, { promote: 'web-v2/1/full' });
    assert.equal(done.status.stableRevision, 'web-v2');
    assert.match(done.events[0]!.message, /promoted in full/);
  });

  it('abort rolls back to the stable revision and stays there; resume tries again from the first step', () => {
    const stable = step(canarySpec('web-v1'), undefined, { now: at(0) }).status;
    const spec = canarySpec('web-v2');
    const paused = step(spec, stable, { now: at(1) });
    const aborted = step(spec, paused.status, { now: at(2) }, { abort: 'web-v2/1' });
    assert.equal(aborted.status.phase, 'Aborted');
    assert.equal(aborted.status.abortedRevision, 'web-v2');
    assert.deepEqual(weights(aborted), { 'web-v1': 100 });
    assert.deepEqual(aborted.status.revisions, ['web-v1', 'web-v2']);
    assert.equal(aborted.events[0]!.type, 'Warning');
    assert.match(aborted.status.nextAction!, /trellis rollout resume shop --component web/);

    const stays = step(spec, aborted.status, { now: at(100) }, { abort: 'web-v2/1', promote: 'web-v2/1/0' });
    assert.equal(stays.status.phase, 'Aborted', 'a step promote does not undo an abort');

    const retried = step(
      spec,
      stays.status,
      { now: at(101) },
      { abort: 'web-v2/1', retry: 'web-v2/1', promote: 'web-v2/1/0' },
    );
    assert.equal(retried.status.attempt, 2);
    assert.equal(retried.status.phase, 'Paused', 'the stale abort and promote of attempt 1 do nothing');
    assert.equal(retried.status.step, '1/2');
    assert.deepEqual(weights(retried), { 'web-v1': 80, 'web-v2': 20 });
    assert.deepEqual(reasons(retried), ['Retried', 'StepStarted']);
  });

  it('a failed measurement rolls back by itself and says why; within failureLimit it only warns', () => {
    const analysis: Analysis = {
      interval: '10s',
      failureLimit: 0,
      metrics: [{ name: 'success-rate', query: 'q', min: 0.99 }],
    };
    const stable = step(canarySpec('web-v1'), undefined, { now: at(0) }).status;
    const spec = canarySpec('web-v2', { analysis });
    const paused = step(spec, stable, { now: at(1) });
    assert.equal(
      analysisDue(spec, paused.status, at(10)),
      false,
      'the first measurement is one interval after the weight moved',
    );
    assert.equal(analysisDue(spec, paused.status, at(11)), true);
    assert.match(paused.status.message!, /waiting for a passing measurement/);
    const failed = step(spec, paused.status, {
      now: at(11),
      measurements: measured('Failed', 0.5, '0.5 is below the minimum 0.99'),
    });
    assert.equal(failed.status.phase, 'RolledBack');
    assert.deepEqual(weights(failed), { 'web-v1': 100 });
    assert.match(
      failed.status.message!,
      /rolled back: analysis failed at step 1\/2: success-rate: 0\.5 is below the minimum 0\.99/,
    );
    assert.deepEqual(
      failed.events.map((e) => [e.type, e.reason]),
      [['Warning', 'RolledBack']],
    );
    assert.equal(analysisDue(spec, failed.status, at(100)), false, 'nothing is measured after a rollback');

    const tolerant = canarySpec('web-v2', { analysis: { ...analysis, failureLimit: 1 } });
    const warned = step(tolerant, paused.status, { now: at(11), measurements: measured('Failed', 0.5, 'low') });
    assert.equal(warned.status.phase, 'Paused');
    assert.deepEqual(reasons(warned), ['AnalysisFailed']);
    const second = step(tolerant, warned.status, { now: at(21), measurements: measured('Failed', 0.4, 'low') });
    assert.equal(second.status.phase, 'RolledBack');
  });

  it('an analysed step completes only after a passing measurement, even once its pause is over', () => {
    const analysis: Analysis = { interval: '10s', metrics: [{ name: 'success-rate', query: 'q', min: 0.99 }] };
    const spec = canarySpec('web-v2', { analysis, steps: [{ weight: 30 }] });
    const stable = step(canarySpec('web-v1'), undefined, { now: at(0) }).status;
    const first = step(spec, stable, { now: at(1) });
    assert.equal(first.status.phase, 'Progressing');
    assert.deepEqual(weights(first), { 'web-v1': 70, 'web-v2': 30 });
    assert.equal(first.requeueAfterMs, 10_000);
    const inconclusive = step(spec, first.status, {
      now: at(11),
      measurements: measured('Inconclusive', Number.NaN, 'no data'),
    });
    assert.equal(inconclusive.status.phase, 'Progressing', 'no data neither passes nor fails');
    assert.equal(inconclusive.requeueAfterMs, 10_000);
    const passed = step(spec, inconclusive.status, { now: at(21), measurements: measured('Successful', 1) });
    assert.equal(passed.status.stableRevision, 'web-v2');
    assert.equal(passed.status.phase, 'Healthy');
  });

  it('pause holds the current step; resume (the annotation gone) continues', () => {
    const spec = canarySpec('web-v2', { steps: [{ weight: 20, pause: { duration: '10s' } }] });
    const stable = step(canarySpec('web-v1'), undefined, { now: at(0) }).status;
    const running = step(spec, stable, { now: at(1) });
    const paused = step(spec, running.status, { now: at(20) }, { paused: true });
    assert.equal(paused.status.phase, 'Paused');
    assert.match(paused.status.message!, /paused by `trellis rollout pause`/);
    assert.deepEqual(weights(paused), { 'web-v1': 80, 'web-v2': 20 });
    const resumed = step(spec, paused.status, { now: at(21) });
    assert.equal(resumed.status.stableRevision, 'web-v2');
  });

  it('blue-green previews the new revision at 0% and switches all traffic on promote', () => {
    const spec: RolloutSpec = {
      component: 'web',
      revision: 'web-v2',
      strategy: 'blueGreen',
      port: 80,
      blueGreen: { previewHostnames: ['preview.shop.local'] },
    };
    const stable = step({ ...spec, revision: 'web-v1' }, undefined, { now: at(0) }).status;
    const preview = step(spec, stable, { now: at(1) });
    assert.equal(preview.status.phase, 'Paused');
    assert.deepEqual(weights(preview), { 'web-v1': 100, 'web-v2': 0 });
    assert.match(preview.status.message!, /preview of web-v2/);
    const switched = step(spec, preview.status, { now: at(2) }, { promote: 'web-v2/1/0' });
    assert.deepEqual(weights(switched), { 'web-v2': 100 });
    const auto = step({ ...spec, blueGreen: { autoPromoteAfter: '5s' } }, stable, { now: at(1) });
    assert.equal(auto.requeueAfterMs, 5000);
    assert.equal(
      step({ ...spec, blueGreen: { autoPromoteAfter: '5s' } }, auto.status, { now: at(6) }).status.stableRevision,
      'web-v2',
    );
  });

  it('a newer revision replaces the one rolling out; going back to the stable revision cancels it', () => {
    const stable = step(canarySpec('web-v1'), undefined, { now: at(0) }).status;
    const v2 = step(canarySpec('web-v2'), stable, { now: at(1) });
    const v3 = step(canarySpec('web-v3'), v2.status, { now: at(2), canary: notReady });
    assert.deepEqual(reasons(v3), ['Superseded', 'Started']);
    assert.deepEqual(weights(v3), { 'web-v1': 100, 'web-v3': 0 });
    assert.deepEqual(v3.status.revisions, ['web-v1', 'web-v3']);
    const back = step(canarySpec('web-v1'), v3.status, { now: at(3) });
    assert.deepEqual(reasons(back), ['Cancelled']);
    assert.equal(back.status.phase, 'Healthy');
    assert.deepEqual(back.status.revisions, ['web-v1']);
  });

  it('without a running stable revision, the new one takes all traffic at once', () => {
    const stable = step(canarySpec('web-v1'), undefined, { now: at(0) }).status;
    const t = step(canarySpec('web-v2'), stable, { now: at(1), stableRunning: false });
    assert.deepEqual(reasons(t), ['Switched']);
    assert.deepEqual(weights(t), { 'web-v2': 100 });
  });
});
