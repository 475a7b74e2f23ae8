import assert from 'node:assert/strict';
import type { KubeObject } from '../kube/types.js';
import { ANNOTATION_APPLIED_HASH, ANNOTATION_PRUNED_FIELDS, contains, desiredObject, upToDate } from './desired.js';

const owner = {
  apiVersion: 'core.oam.dev/v1alpha2',
  kind: 'ApplicationConfiguration',
  name: 'app',
  namespace: 'ns',
  uid: 'u-1',
};
const ref = { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid };
const deployment = (replicas: number, env: string[] = ['A']): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'ns',
    labels: { 'app.oam.dev/name': 'app' },
    annotations: { 'trellis.dev/owner': 'x' },
  },
  spec: {
    replicas,
    template: { spec: { containers: [{ name: 'main', env: env.map((name) => ({ name, value: '1' })) }] } },
  },
});

describe('apply: desired state', () => {
  it('desiredObject() makes the AppConfig the controller owner and stamps a content hash', () => {
    const d = desiredObject(deployment(2), owner, true);
    assert.deepEqual(d.metadata.ownerReferences, [{ ...ref, controller: true, blockOwnerDeletion: true }]);
    assert.equal(d.metadata.annotations!['trellis.dev/owner'], 'ApplicationConfiguration.core.oam.dev/ns/app');
    assert.match(d.metadata.annotations![ANNOTATION_APPLIED_HASH]!, /^[0-9a-f]{16}$/);
    assert.equal(
      desiredObject(deployment(2), owner, true).metadata.annotations![ANNOTATION_APPLIED_HASH],
      d.metadata.annotations![ANNOTATION_APPLIED_HASH],
      'stable',
    );
    assert.notEqual(
      desiredObject(deployment(3), owner, true).metadata.annotations![ANNOTATION_APPLIED_HASH],
      d.metadata.annotations![ANNOTATION_APPLIED_HASH],
    );
    assert.equal(
      desiredObject(deployment(2), owner, false).metadata.ownerReferences,
      undefined,
      'no owner reference on cluster-scoped objects',
    );
  });

  it('upToDate(): what the server added does not matter; a hand edit, a removed field or another template does', () => {
    const desired = desiredObject(deployment(2), owner, true);
    const live = structuredClone(desired) as KubeObject;
    live.metadata = {
      ...live.metadata,
      uid: 'x',
      resourceVersion: '9',
      labels: { ...live.metadata.labels, extra: 'theirs' },
      finalizers: ['keep'],
    };
    (live.spec as Record<string, unknown>).strategy = { type: 'RollingUpdate' };
    live.status = { readyReplicas: 2 };
    assert.equal(upToDate(desired, live), true);
    assert.equal(
      upToDate(desired, { ...live, spec: { ...(live.spec as object), replicas: 5 } }),
      false,
      'hand-edited replicas',
    );
    const fewerEnv = desiredObject(deployment(2, []), owner, true);
    assert.equal(upToDate(fewerEnv, live), false, 'a field removed from the template changes the hash');
    assert.equal(upToDate(desired, undefined), false);
    assert.equal(upToDate(desired, { ...live, metadata: { ...live.metadata, deletionTimestamp: 'now' } }), false);
  });

  it('upToDate(): fields pruned because the schema does not declare them are missing from the live copy on purpose', () => {
    const desired = desiredObject(
      { ...deployment(2), spec: { ...(deployment(2).spec as object), undeclared: 'x' } },
      owner,
      true,
    );
    const live = structuredClone(desired) as KubeObject;
    delete (live.spec as Record<string, unknown>).undeclared;
    assert.equal(upToDate(desired, live), false, 'without the record, a missing field is drift');
    live.metadata.annotations = { ...live.metadata.annotations, [ANNOTATION_PRUNED_FIELDS]: 'spec.undeclared' };
    assert.equal(upToDate(desired, live), true);
  });

  it('contains() compares lists item by item and scalars exactly', () => {
    assert.equal(contains({ a: [{ x: 1, y: 2 }], b: 'c' }, { a: [{ x: 1 }] }), true);
    assert.equal(contains({ a: [{ x: 1 }, { x: 2 }] }, { a: [{ x: 1 }] }), false);
    assert.equal(contains({ a: '1' }, { a: 1 }), false);
  });
});
