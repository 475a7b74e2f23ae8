import assert from 'node:assert/strict';
import { compactForCache, hasFieldSets, LAST_APPLIED_ANNOTATION } from './cache-transform.js';
import type { KubeObject } from './types.js';

const entry = (manager: string, extra: Record<string, unknown> = {}) => ({
  manager,
  operation: 'Apply',
  apiVersion: 'apps/v1',
  time: '2026-12-06T15:00:00Z',
  fieldsType: 'FieldsV1',
  fieldsV1: { 'f:spec': { 'f:replicas': {} } },
  ...extra,
});
const deployment = (metadata: Record<string, unknown>): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'ns', uid: 'u1', resourceVersion: '42', ...metadata },
  spec: { replicas: 2 },
  status: { readyReplicas: 2 },
});

describe('kube/cache-transform: what an informer cache keeps', () => {
  it('keeps who wrote the object (manager, operation, apiVersion, subresource) and drops the field sets', () => {
    const live = deployment({
      managedFields: [
        entry('trellis'),
        entry('kube-controller-manager', { operation: 'Update', subresource: 'status' }),
      ],
    });
    const cached = compactForCache(live);
    assert.deepEqual(cached.metadata.managedFields, [
      { manager: 'trellis', operation: 'Apply', apiVersion: 'apps/v1' },
      { manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'apps/v1', subresource: 'status' },
    ]);
    assert.equal(hasFieldSets(live), true);
    assert.equal(hasFieldSets(cached), false, 'a compacted copy says so: its field sets must be read again');
    assert.deepEqual(
      { ...cached, metadata: { ...cached.metadata, managedFields: live.metadata.managedFields } },
      live,
      'everything else (identity, resourceVersion, spec, status) is kept as it was',
    );
    assert.equal(live.metadata.managedFields?.length, 2);
    assert.ok(
      (live.metadata.managedFields as { fieldsV1?: unknown }[])[0]!.fieldsV1,
      'the object given is not changed',
    );
  });

  it('drops the last-applied annotation (a second copy of the object) and keeps the other annotations', () => {
    const cached = compactForCache(deployment({ annotations: { [LAST_APPLIED_ANNOTATION]: '{"big":1}', keep: 'me' } }));
    assert.deepEqual(cached.metadata.annotations, { keep: 'me' });
    const only = compactForCache(deployment({ annotations: { [LAST_APPLIED_ANNOTATION]: '{}' } }));
    assert.equal(only.metadata.annotations, undefined);
  });

  it('returns the object itself when there is nothing to drop (already compact, or no managedFields)', () => {
    const plain = deployment({ annotations: { keep: 'me' } });
    assert.equal(compactForCache(plain), plain);
    const once = compactForCache(deployment({ managedFields: [entry('trellis')] }));
    assert.equal(compactForCache(once), once);
    assert.equal(hasFieldSets(plain), true, 'no entries: nothing missing');
  });
});
