import assert from 'node:assert/strict';
import {
  buildRevision,
  componentOfRevision,
  nextRevisionNumber,
  revisionNumber,
  revisionsToPrune,
  specHash,
} from './revisions.js';

const rev = (n: number) => ({ revision: n, metadata: { name: `web-v${n}` } });

describe('controllers/component: revisions', () => {
  it('specHash ignores key order and changes with any value', () => {
    assert.equal(specHash({ a: 1, b: { c: 2, d: 3 } }), specHash({ b: { d: 3, c: 2 }, a: 1 }));
    assert.notEqual(specHash({ a: 1 }), specHash({ a: 2 }));
  });

  it('names revisions <component>-v<N> and reads them back', () => {
    assert.equal(revisionNumber('web-v12', 'web'), 12);
    assert.equal(revisionNumber('web-api-v3', 'web'), undefined);
    assert.equal(revisionNumber('web-api-v3'), 3);
    assert.equal(componentOfRevision('web-api-v3'), 'web-api');
  });

  it('never reuses a number, even when the newest revisions were deleted', () => {
    assert.equal(nextRevisionNumber([]), 1);
    assert.equal(nextRevisionNumber([rev(1), rev(3)]), 4);
    assert.equal(nextRevisionNumber([rev(1)], 5), 6);
  });

  it('snapshots the spec in a revision owned by the component', () => {
    const r = buildRevision(
      {
        apiVersion: 'core.oam.dev/v1alpha2',
        kind: 'Component',
        metadata: { name: 'web', namespace: 'ns', uid: 'u1', labels: { x: 'y' } },
        spec: { workload: { apiVersion: 'v1', kind: 'Pod' } },
      },
      2,
    );
    assert.equal(r.metadata.name, 'web-v2');
    assert.equal(r.revision, 2);
    assert.deepEqual(r.data.spec, { workload: { apiVersion: 'v1', kind: 'Pod' } });
    assert.deepEqual(r.metadata.ownerReferences?.[0], {
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'Component',
      name: 'web',
      uid: 'u1',
      controller: true,
      blockOwnerDeletion: true,
    });
    assert.equal(r.metadata.labels?.['trellis.dev/revision-hash'], specHash(r.data.spec));
  });

  it('prunes the oldest beyond the limit, but never the newest nor a referenced one', () => {
    const all = [rev(1), rev(2), rev(3), rev(4), rev(5)];
    assert.deepEqual(
      revisionsToPrune(all, 3, new Set()).map((r) => r.revision),
      [1, 2],
    );
    assert.deepEqual(
      revisionsToPrune(all, 3, new Set(['web-v1'])).map((r) => r.revision),
      [2, 3],
    );
    assert.deepEqual(
      revisionsToPrune(all, 1, new Set(['web-v1', 'web-v2', 'web-v3', 'web-v4'])).map((r) => r.revision),
      [],
    );
    assert.deepEqual(
      revisionsToPrune([rev(7)], 0, new Set()).map((r) => r.revision),
      [],
      'the newest stays even with limit 0',
    );
  });
});
