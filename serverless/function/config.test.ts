import assert from 'node:assert/strict';
import { isTrellisError } from '../../lib/errors.js';
import { functionConfig, type FunctionSpec } from './config.js';

const fn = (spec: FunctionSpec | undefined, name = 'hello') => ({
  apiVersion: 'serverless.trellis.dev/v1alpha1' as const,
  kind: 'Function' as const,
  metadata: { name, namespace: 'shop', uid: 'u1' },
  ...(spec ? { spec } : {}),
});
const invalid = (field: string, reason: RegExp) => (err: unknown) =>
  isTrellisError(err, 'TRL_FUNCTION_INVALID') &&
  err.object === 'Function/shop/hello' &&
  err.field === field &&
  reason.test(err.reason);

describe('serverless: functionConfig', () => {
  it('fills in the defaults: port 8080, target 100, no limit, queue 1000 for 60 s, 0 to unlimited instances, KPA windows', () => {
    const c = functionConfig(fn({ handler: ' node  handler.js ' }));
    assert.deepEqual(c.command, ['node', 'handler.js']);
    assert.equal(c.key, 'shop/hello');
    assert.equal(c.uid, 'u1');
    assert.equal(c.port, 8080);
    assert.equal(c.target, 100);
    assert.equal(c.limit, 0);
    assert.equal(c.queueSize, 1000);
    assert.equal(c.queueTimeoutMs, 60_000);
    assert.equal(c.timeoutMs, 300_000);
    assert.equal(c.minScale, 0);
    assert.equal(c.maxScale, 0);
    assert.deepEqual(c.scale, {
      stableWindowSeconds: 60,
      panicWindowSeconds: 6,
      panicThreshold: 2,
      maxScaleUpRate: 1000,
      maxScaleDownRate: 2,
      idleGraceSeconds: 30,
      targetBurstCapacity: 200,
    });
  });

  it('takes fractional windows, so tests can run in seconds', () => {
    const c = functionConfig(
      fn({ image: 'x', scale: { stableWindowSeconds: 1.5, panicWindowSeconds: 0.5, idleGraceSeconds: 0.25 } }),
    );
    assert.equal(c.scale.stableWindowSeconds, 1.5);
    assert.equal(c.scale.idleGraceSeconds, 0.25);
  });

  it('rejects a Function with neither image nor handler, naming spec', () => {
    assert.throws(
      () => functionConfig(fn(undefined)),
      (err: unknown) =>
        isTrellisError(err, 'TRL_FUNCTION_INVALID') &&
        err.field === 'spec' &&
        /needs an image, a handler command, or both/.test(err.message),
    );
  });

  it('names the field and the reason for what the CRD schema cannot check', () => {
    assert.throws(() => functionConfig(fn({ handler: '   ' })), invalid('spec.handler', /empty/));
    assert.throws(
      () => functionConfig(fn({ image: 'x', scale: { min: 5, max: 2 } })),
      invalid('spec.scale.min', /5 exceeds scale.max \(2\)/),
    );
    assert.throws(
      () => functionConfig(fn({ image: 'x', concurrency: { target: 10, limit: 5 } })),
      invalid('spec.concurrency.target', /10 exceeds concurrency.limit \(5\)/),
    );
    assert.throws(
      () => functionConfig(fn({ image: 'x', scale: { stableWindowSeconds: 2, panicWindowSeconds: 3 } })),
      invalid('spec.scale.panicWindowSeconds', /longer than the stable window/),
    );
    assert.throws(
      () => functionConfig(fn({ image: 'x', concurrency: { target: 1.5 } })),
      invalid('spec.concurrency.target', /expected an integer ≥ 1, got 1.5/),
    );
    assert.throws(
      () => functionConfig(fn({ image: 'x', readinessPath: 'healthz' })),
      invalid('spec.readinessPath', /must start with "\/"/),
    );
  });

  it('rejects a name its Service could not have', () => {
    assert.throws(
      () => functionConfig(fn({ image: 'x' }, 'my.fn')),
      (err: unknown) =>
        isTrellisError(err, 'TRL_FUNCTION_INVALID') && err.field === 'metadata.name' && /DNS label/.test(err.message),
    );
  });
});
