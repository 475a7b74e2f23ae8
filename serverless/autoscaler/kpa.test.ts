import assert from 'node:assert/strict';
import { functionConfig, type FunctionSpec } from '../function/config.js';
import { decide, type KpaInputs, type KpaState } from './kpa.js';

const config = (spec: FunctionSpec = {}) =>
  functionConfig({
    apiVersion: 'serverless.trellis.dev/v1alpha1',
    kind: 'Function',
    metadata: { name: 'f', namespace: 'ns' },
    spec: { handler: 'node h.js', concurrency: { target: 10 }, ...spec },
  });
const inputs = (over: Partial<KpaInputs> = {}): KpaInputs => ({
  now: 100_000,
  stable: 0,
  panic: 0,
  stableArrivals: 0,
  stableMax: 0,
  coveredMs: 60_000,
  ready: 1,
  current: 1,
  idleMs: Infinity,
  ...over,
});
const calm: KpaState = { panicDesired: 0 };

describe('autoscaler: decide (KPA)', () => {
  it('asks for ceil(stable concurrency / target) instances', () => {
    const { decision } = decide(
      config(),
      inputs({ stable: 25, panic: 25, ready: 3, current: 3, stableArrivals: 100, stableMax: 30 }),
      calm,
    );
    assert.equal(decision.desired, 3);
    assert.equal(decision.panicking, false);
    assert.match(decision.reason, /^stable: average concurrency 25 over 60 s at target 10/);
  });

  it('panics when the panic window asks for at least twice the ready instances, and sizes for the panic window', () => {
    const { decision, state } = decide(
      config(),
      inputs({ stable: 5, panic: 45, ready: 2, current: 2, stableArrivals: 50, stableMax: 50 }),
      calm,
    );
    assert.equal(decision.panicking, true);
    assert.equal(decision.desired, 5);
    assert.equal(state.panicSince, 100_000);
    assert.match(decision.reason, /^panic: concurrency 45 needs 5 instances, ≥ 2× the 2 ready/);
  });

  it('reacts to a burst reported between windows as panic input', () => {
    const { decision } = decide(
      config(),
      inputs({ stable: 1, panic: 1, burst: 200, ready: 1, current: 1, stableArrivals: 5, stableMax: 1 }),
      calm,
    );
    assert.equal(decision.desired, 20);
    assert.equal(decision.panicking, true);
  });

  it('does not scale down while panicking, and leaves panic after a stable window without it', () => {
    const panicking: KpaState = { panicSince: 100_000, panicDesired: 8 };
    const during = decide(
      config(),
      inputs({ now: 130_000, stable: 10, panic: 10, ready: 8, current: 8, stableArrivals: 9, stableMax: 10 }),
      panicking,
    );
    assert.equal(during.decision.desired, 8);
    assert.equal(during.decision.panicking, true);
    const after = decide(
      config(),
      inputs({ now: 160_000, stable: 10, panic: 10, ready: 8, current: 8, stableArrivals: 9, stableMax: 10 }),
      during.state,
    );
    assert.equal(after.decision.panicking, false);
    assert.equal(after.decision.desired, 4, 'back to stable sizing, limited by the scale-down rate (8 / 2)');
  });

  it('limits one decision by the max scale-up rate', () => {
    const { decision } = decide(
      config({ scale: { maxScaleUpRate: 3 } }),
      inputs({ stable: 1000, panic: 1000, ready: 2, current: 2, stableArrivals: 1, stableMax: 1000 }),
      calm,
    );
    assert.equal(decision.desired, 6);
  });

  it('keeps within scale.min and scale.max', () => {
    assert.equal(
      decide(
        config({ scale: { max: 4 } }),
        inputs({ stable: 1000, panic: 1000, stableArrivals: 1, stableMax: 1 }),
        calm,
      ).decision.desired,
      4,
    );
    const min = decide(config({ scale: { min: 2 } }), inputs({ ready: 2, current: 2 }), calm).decision;
    assert.equal(min.desired, 2);
    assert.match(min.reason, /kept at scale.min 2/);
  });

  it('scales to zero only after a quiet stable window and the idle grace', () => {
    const fn = config({ scale: { idleGraceSeconds: 30 } });
    const zero = decide(fn, inputs({ idleMs: 61_000 }), calm).decision;
    assert.equal(zero.desired, 0);
    assert.match(zero.reason, /^scale to zero: no request for 61 s/);
    const busyWindow = decide(fn, inputs({ idleMs: 61_000, stableArrivals: 1, stableMax: 1 }), calm).decision;
    assert.equal(busyWindow.desired, 1);
    assert.match(busyWindow.reason, /the stable window saw requests/);
    const inGrace = decide(config({ scale: { idleGraceSeconds: 90 } }), inputs({ idleMs: 61_000 }), calm).decision;
    assert.equal(inGrace.desired, 1);
    assert.match(inGrace.reason, /idle for 61 s of the 90 s grace/);
  });

  it('never scales to zero while a long request is in flight, however long the quiet arrivals', () => {
    const { decision } = decide(
      config({ scale: { idleGraceSeconds: 1 } }),
      inputs({ stable: 1, panic: 1, stableMax: 1, idleMs: 120_000 }),
      calm,
    );
    assert.equal(decision.desired, 1);
  });

  it('after a restart, grows but neither shrinks nor goes to zero until it has seen a whole stable window', () => {
    const restarted = inputs({
      coveredMs: 5_000,
      ready: 4,
      current: 4,
      stable: 10,
      panic: 10,
      stableArrivals: 1,
      stableMax: 10,
    });
    assert.equal(decide(config(), restarted, calm).decision.desired, 4);
    assert.equal(decide(config(), inputs({ coveredMs: 5_000, idleMs: Infinity }), calm).decision.desired, 1);
    assert.equal(decide(config(), { ...restarted, stable: 100, panic: 100 }, calm).decision.desired, 10);
  });

  it('stays at zero with no traffic', () => {
    assert.equal(decide(config(), inputs({ ready: 0, current: 0 }), calm).decision.desired, 0);
  });
});
