import assert from 'node:assert/strict';
import type { KubeObject } from '../kube/index.js';
import {
  and,
  changedBeyondStatus,
  controlledBy,
  generationChanged,
  hasLabel,
  isResync,
  not,
  or,
  resourceVersionChanged,
  specOrMetadataChanged,
} from './predicates.js';

const obj = (meta: Partial<KubeObject['metadata']>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'c', namespace: 'n', ...meta },
});

describe('runtime: predicates', () => {
  it("changedBeyondStatus skips an update of status (with kube-controller-manager's revision annotation) or field ownership alone, passes any other change", () => {
    const status = (o: KubeObject, s: Record<string, unknown>, time: string): KubeObject =>
      ({
        ...o,
        metadata: {
          ...o.metadata,
          resourceVersion: time,
          managedFields: [
            { manager: 'trellis', operation: 'Apply', time: '1' },
            { manager: 'kube-controller-manager', operation: 'Update', subresource: 'status', time },
          ],
        },
        status: s,
      }) as KubeObject;
    const before = status({ ...obj({ generation: 2 }), spec: { replicas: 0 } } as KubeObject, {}, '10');
    const echo = status(before, { observedGeneration: 2 }, '11');
    assert.deepEqual(changedBeyondStatus.check({ type: 'update', object: echo, old: before }), {
      ok: false,
      reason: 'changedBeyondStatus: only status or field ownership changed',
    });
    const handedOver = {
      ...echo,
      metadata: { ...echo.metadata, managedFields: [{ manager: 'trellis', operation: 'Apply', time: '2' }] },
    };
    assert.equal(changedBeyondStatus.check({ type: 'update', object: handedOver, old: echo }).ok, false);
    const drifted = { ...echo, spec: { replicas: 3 } } as KubeObject;
    assert.equal(changedBeyondStatus.check({ type: 'update', object: drifted, old: echo }).ok, true);
    const labelled = { ...echo, metadata: { ...echo.metadata, labels: { hand: 'edit' } } };
    assert.equal(changedBeyondStatus.check({ type: 'update', object: labelled, old: echo }).ok, true);
    assert.equal(changedBeyondStatus.check({ type: 'add', object: echo }).ok, true);
    assert.equal(changedBeyondStatus.check({ type: 'delete', object: echo }).ok, true);
    // kube-controller-manager reports a new ReplicaSet: its revision annotation comes with the status.
    const revision = (o: KubeObject, r: string) => ({
      ...o,
      metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, 'deployment.kubernetes.io/revision': r } },
    });
    assert.equal(changedBeyondStatus.check({ type: 'update', object: revision(echo, '1'), old: before }).ok, false);
    const rolled = status(revision(echo, '2'), { observedGeneration: 3 }, '12');
    assert.equal(changedBeyondStatus.check({ type: 'update', object: rolled, old: revision(echo, '1') }).ok, false);
    const annotated = { ...rolled, metadata: { ...rolled.metadata, annotations: { hand: 'edit' } } };
    assert.equal(changedBeyondStatus.check({ type: 'update', object: annotated, old: rolled }).ok, true);
  });

  it('generationChanged passes adds, deletes and spec changes, and says why it skips the rest', () => {
    assert.deepEqual(generationChanged.check({ type: 'add', object: obj({ generation: 1 }) }), { ok: true });
    assert.deepEqual(
      generationChanged.check({ type: 'update', object: obj({ generation: 2 }), old: obj({ generation: 1 }) }),
      { ok: true },
    );
    assert.deepEqual(
      generationChanged.check({
        type: 'update',
        object: obj({ generation: 2, labels: { a: 'b' } }),
        old: obj({ generation: 2 }),
      }),
      { ok: false, reason: 'generationChanged: generation 2 unchanged' },
    );
    assert.deepEqual(generationChanged.check({ type: 'delete', object: obj({ generation: 2 }) }), { ok: true });
  });

  it('isResync passes only replays, so or(specOrMetadataChanged, isResync) keeps periodic resyncs', () => {
    const same = {
      type: 'update' as const,
      object: obj({ resourceVersion: '5', generation: 1 }),
      old: obj({ resourceVersion: '5', generation: 1 }),
    };
    assert.equal(isResync.check(same).ok, true);
    assert.equal(isResync.check({ ...same, object: obj({ resourceVersion: '6', generation: 1 }) }).ok, false);
    assert.equal(or(specOrMetadataChanged, isResync).check(same).ok, true);
    assert.equal(
      or(specOrMetadataChanged, isResync).check({ ...same, object: obj({ resourceVersion: '6', generation: 1 }) }).ok,
      false,
      'a status-only change',
    );
  });

  it('resourceVersionChanged skips resyncs only', () => {
    assert.equal(
      resourceVersionChanged.check({
        type: 'update',
        object: obj({ resourceVersion: '5' }),
        old: obj({ resourceVersion: '5' }),
      }).ok,
      false,
    );
    assert.equal(
      resourceVersionChanged.check({
        type: 'update',
        object: obj({ resourceVersion: '6' }),
        old: obj({ resourceVersion: '5' }),
      }).ok,
      true,
    );
  });

  it('specOrMetadataChanged skips status-only updates but passes label and finalizer changes', () => {
    const base = { generation: 3, resourceVersion: '1' };
    assert.deepEqual(
      specOrMetadataChanged.check({ type: 'update', object: obj({ ...base, resourceVersion: '2' }), old: obj(base) }),
      { ok: false, reason: 'specOrMetadataChanged: only status changed' },
    );
    assert.equal(
      specOrMetadataChanged.check({ type: 'update', object: obj({ ...base, labels: { x: 'y' } }), old: obj(base) }).ok,
      true,
    );
    assert.equal(
      specOrMetadataChanged.check({ type: 'update', object: obj({ ...base, finalizers: ['f'] }), old: obj(base) }).ok,
      true,
    );
  });

  it('and() names the first predicate that skipped; or() lists every reason; not() inverts', () => {
    const update = { type: 'update' as const, object: obj({ generation: 1 }), old: obj({ generation: 1 }) };
    assert.deepEqual(and(hasLabel('app'), generationChanged).check(update), {
      ok: false,
      reason: 'hasLabel(app): no label app',
    });
    assert.deepEqual(or(hasLabel('app'), generationChanged).check(update), {
      ok: false,
      reason: 'hasLabel(app): no label app; generationChanged: generation 1 unchanged',
    });
    assert.equal(or(not(hasLabel('app')), generationChanged).check(update).ok, true);
    assert.deepEqual(not(not(hasLabel('app'))).check(update), {
      ok: false,
      reason: 'not(not(hasLabel(app))): not(hasLabel(app)) passed',
    });
  });

  it('hasLabel checks the value when given; controlledBy reads the controller owner reference', () => {
    const labelled = { type: 'add' as const, object: obj({ labels: { tier: 'web' } }) };
    assert.equal(hasLabel('tier', 'web').check(labelled).ok, true);
    assert.deepEqual(hasLabel('tier', 'db').check(labelled), {
      ok: false,
      reason: 'hasLabel(tier=db): label tier=web',
    });
    const owned = obj({
      ownerReferences: [
        {
          apiVersion: 'core.oam.dev/v1alpha2',
          kind: 'ApplicationConfiguration',
          name: 'a',
          uid: 'u',
          controller: true,
        },
      ],
    });
    assert.equal(
      controlledBy('ApplicationConfiguration', 'core.oam.dev').check({ type: 'add', object: owned }).ok,
      true,
    );
    assert.deepEqual(controlledBy('Deployment').check({ type: 'add', object: owned }), {
      ok: false,
      reason: 'controlledBy(Deployment): controlled by ApplicationConfiguration',
    });
    assert.deepEqual(controlledBy('Deployment').check({ type: 'add', object: obj({}) }), {
      ok: false,
      reason: 'controlledBy(Deployment): no controller owner',
    });
  });
});
