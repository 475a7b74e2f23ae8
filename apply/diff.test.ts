import assert from 'node:assert/strict';
import { diffObjects, formatChanges } from './diff.js';
import { removedEntries } from './inventory.js';
import { sortForApply } from './order.js';

const cm = (data: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'c', namespace: 'n', resourceVersion: '7', managedFields: [{}], ...extra },
  data,
});

describe('apply: diff, inventory, order', () => {
  it('diffObjects reports changed, added and removed leaves, ignoring server bookkeeping', () => {
    const changes = diffObjects(cm({ a: '1', b: '2' }), {
      ...cm({ a: '1', b: '3', c: '4' }),
      metadata: { name: 'c', namespace: 'n', resourceVersion: '8' },
    });
    assert.deepEqual(formatChanges(changes), ['- data.b: "2"', '+ data.b: "3"', '+ data.c: "4"']);
  });

  it('diffObjects against nothing lists the whole object as new', () => {
    const lines = formatChanges(diffObjects(undefined, cm({ a: '1' })));
    assert.ok(lines.includes('+ kind: "ConfigMap"'));
    assert.ok(lines.includes('+ data: {"a":"1"}'));
    assert.ok(lines.every((l) => l.startsWith('+ ')));
  });

  it('removedEntries matches by group, kind, namespace and name — not by version', () => {
    const prev = [
      { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', name: 'h', namespace: 'n' },
      { apiVersion: 'v1', kind: 'Service', name: 's', namespace: 'n' },
    ];
    const next = [{ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name: 'h', namespace: 'n' }];
    assert.deepEqual(removedEntries(prev, next), [prev[1]]);
  });

  it('sortForApply puts namespaces, CRDs and definitions before what uses them, keeping order otherwise', () => {
    const kinds = sortForApply([
      { kind: 'Deployment' },
      { kind: 'ApplicationConfiguration' },
      { kind: 'TraitDefinition' },
      { kind: 'CustomResourceDefinition' },
      { kind: 'Namespace' },
      { kind: 'Component' },
    ]).map((o) => o.kind);
    assert.deepEqual(kinds, [
      'Namespace',
      'CustomResourceDefinition',
      'TraitDefinition',
      'Component',
      'Deployment',
      'ApplicationConfiguration',
    ]);
  });
});
