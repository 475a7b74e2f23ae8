import assert from 'node:assert/strict';
import type { KubeObject } from '../kube/types.js';
import { desiredObject } from './desired.js';
import { shareable, sharePatch, sharersOf } from './shared.js';

const app = (name: string, uid: string) => ({
  apiVersion: 'core.oam.dev/v1beta1',
  kind: 'Application',
  name,
  namespace: 'ns',
  uid,
});
const first = app('first', 'uid-1');
const second = app('second', 'uid-2');
const config: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'ns' } };
const made = {
  ...desiredObject(config, first, true),
  metadata: { ...desiredObject(config, first, true).metadata, resourceVersion: '7' },
};

describe('apply/shared: shared-resource', () => {
  it('an object another Application made is shareable; one made by hand, by another kind of owner, or its own is not', () => {
    assert.equal(shareable(made, second), true);
    assert.equal(shareable(made, first), false, 'its own');
    assert.equal(shareable(config, second), false, 'no owner mark: made by hand');
    const byAppConfig = desiredObject(
      config,
      { ...first, apiVersion: 'core.oam.dev/v1alpha2', kind: 'ApplicationConfiguration' },
      true,
    );
    assert.equal(shareable(byAppConfig, second), false, 'an ApplicationConfiguration does not share');
  });

  it('records the creator and the sharer (creator first) and a non-controller owner reference, conditional on resourceVersion', () => {
    const patch = sharePatch(made, second) as { metadata: KubeObject['metadata'] };
    assert.equal(patch.metadata.resourceVersion, '7');
    assert.equal(patch.metadata.annotations?.['app.oam.dev/shared-by'], 'ns/first,ns/second');
    assert.deepEqual(
      patch.metadata.ownerReferences?.map((r) => [r.uid, !!r.controller]),
      [
        ['uid-1', true],
        ['uid-2', false],
      ],
    );
    const shared = { ...made, metadata: { ...made.metadata, ...patch.metadata } };
    assert.deepEqual(sharersOf(shared), ['ns/first', 'ns/second']);
    assert.equal(sharePatch(shared, second), undefined, 'already a sharer: nothing to write');
    const third = sharePatch(shared, app('third', 'uid-3')) as { metadata: KubeObject['metadata'] };
    assert.equal(third.metadata.annotations?.['app.oam.dev/shared-by'], 'ns/first,ns/second,ns/third');
  });
});
