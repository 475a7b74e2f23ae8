import assert from 'node:assert/strict';
import { isTrellisError } from '../../lib/errors.js';
import type { FunctionSpec } from './config.js';
import { resolveTraffic, routableRevisions, trafficRoutes } from './traffic.js';

const fn = (traffic?: FunctionSpec['traffic']) => ({
  apiVersion: 'serverless.trellis.dev/v1alpha1' as const,
  kind: 'Function' as const,
  metadata: { name: 'hello', namespace: 'shop' },
  spec: { image: 'x', ...(traffic ? { traffic } : {}) },
});
const facts = {
  names: ['hello-00001', 'hello-00002', 'hello-00003'],
  latestCreated: 'hello-00003',
  latestReady: 'hello-00002',
};
const invalid = (field: string, reason: RegExp) => (err: unknown) =>
  isTrellisError(err, 'TRL_FUNCTION_INVALID') &&
  err.object === 'Function/shop/hello' &&
  err.field === field &&
  reason.test(err.reason);

describe('serverless: resolveTraffic(spec.traffic)', () => {
  it('sends everything to the latest ready revision without spec.traffic', () => {
    assert.deepEqual(resolveTraffic(fn(), facts), [
      { revisionName: 'hello-00002', latestRevision: true, percent: 100 },
    ]);
  });

  it('follows the latest created revision while none has been ready (a new Function)', () => {
    assert.deepEqual(resolveTraffic(fn(), { names: ['hello-00001'], latestCreated: 'hello-00001' }), [
      { revisionName: 'hello-00001', latestRevision: true, percent: 100 },
    ]);
  });

  it('resolves latestRevision and keeps pinned revisions and tags as written', () => {
    const served = resolveTraffic(
      fn([
        { revisionName: 'hello-00001', percent: 90 },
        { latestRevision: true, percent: 10, tag: 'canary' },
        { revisionName: 'hello-00003', tag: 'next' },
      ]),
      facts,
    );
    assert.deepEqual(served, [
      { revisionName: 'hello-00001', percent: 90 },
      { revisionName: 'hello-00002', percent: 10, latestRevision: true, tag: 'canary' },
      { revisionName: 'hello-00003', percent: 0, tag: 'next' },
    ]);
    assert.deepEqual([...routableRevisions(served)].sort(), ['hello-00001', 'hello-00002', 'hello-00003']);
  });

  it('names the field and the reason for a split it cannot serve', () => {
    assert.throws(
      () => resolveTraffic(fn([{ revisionName: 'hello-00009', percent: 100 }]), facts),
      invalid(
        'spec.traffic[0].revisionName',
        /no revision hello-00009 of Function hello \(it has hello-00001, hello-00002, hello-00003\)/,
      ),
    );
    assert.throws(
      () =>
        resolveTraffic(
          fn([
            { revisionName: 'hello-00001', percent: 60 },
            { latestRevision: true, percent: 30 },
          ]),
          facts,
        ),
      invalid('spec.traffic', /add up to 90, not 100/),
    );
    assert.throws(
      () => resolveTraffic(fn([{ revisionName: 'hello-00001', latestRevision: true, percent: 100 }]), facts),
      invalid('spec.traffic[0]', /one of the two/),
    );
    assert.throws(() => resolveTraffic(fn([{ percent: 100 }]), facts), invalid('spec.traffic[0]', /one of the two/));
    assert.throws(
      () =>
        resolveTraffic(
          fn([
            { latestRevision: true, percent: 50, tag: 'a' },
            { revisionName: 'hello-00001', percent: 50, tag: 'a' },
          ]),
          facts,
        ),
      invalid('spec.traffic[1].tag', /appears twice/),
    );
    assert.throws(
      () => resolveTraffic(fn([{ latestRevision: true, percent: 100, tag: 'Canary' }]), facts),
      invalid('spec.traffic[0].tag', /not a DNS label/),
    );
    assert.throws(
      () => resolveTraffic(fn([{ latestRevision: true, percent: 100, tag: 'x'.repeat(60) }]), facts),
      invalid('spec.traffic[0].tag', /longer than 63 characters/),
    );
    assert.throws(
      () => resolveTraffic(fn([{ latestRevision: true, percent: 101 }]), facts),
      invalid('spec.traffic[0].percent', /integer from 0 to 100/),
    );
    assert.throws(() => resolveTraffic(fn([]), facts), invalid('spec.traffic', /lists no target/));
  });
});

describe('serverless: trafficRoutes', () => {
  it('gives the Function its split (one share per revision) and each tag its revision alone', () => {
    const routes = trafficRoutes('shop', 'hello', [
      { revisionName: 'hello-00001', percent: 60 },
      { revisionName: 'hello-00001', percent: 30, tag: 'stable' },
      { revisionName: 'hello-00002', percent: 10, tag: 'canary' },
      { revisionName: 'hello-00003', percent: 0, tag: 'next' },
    ]);
    assert.deepEqual(routes, [
      {
        key: 'shop/hello',
        targets: [
          { revision: 'shop/hello-00001', percent: 90 },
          { revision: 'shop/hello-00002', percent: 10 },
        ],
      },
      { key: 'shop/stable-hello', targets: [{ revision: 'shop/hello-00001', percent: 100 }] },
      { key: 'shop/canary-hello', targets: [{ revision: 'shop/hello-00002', percent: 100 }] },
      { key: 'shop/next-hello', targets: [{ revision: 'shop/hello-00003', percent: 100 }] },
    ]);
  });
});
