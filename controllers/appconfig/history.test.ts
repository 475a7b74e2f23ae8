import assert from 'node:assert/strict';
import { entryKey, entryOf, type InventoryEntry } from '../../apply/index.js';
import type { KubeObject } from '../../kube/index.js';
import type { RenderedComponent } from '../../render/index.js';
import { revisionHistory } from './history.js';

const obj = (
  apiVersion: string,
  kind: string,
  name: string,
  revision: string,
  type: 'WORKLOAD' | 'TRAIT',
  annotations: Record<string, string> = {},
  status?: unknown,
): KubeObject => ({
  apiVersion,
  kind,
  metadata: {
    name,
    namespace: 'shop',
    labels: { 'app.oam.dev/component': 'web', 'app.oam.dev/revision': revision, 'app.oam.dev/resourceType': type },
    annotations,
  },
  ...(status ? { status } : {}),
});

/** A component at `web-v3` with a revisionEnabled trait whose live object has `status`. */
function setup(traitStatus?: unknown) {
  const rollout = obj(
    'delivery.trellis.dev/v1alpha1',
    'Rollout',
    'web-rollout',
    'web-v3',
    'TRAIT',
    { 'trellis.dev/trait': 'web-rollout' },
    traitStatus,
  );
  const component = {
    name: 'web',
    revisionName: 'web-v3',
    revisionEnabled: true,
    workload: {
      object: obj('apps/v1', 'Deployment', 'web-v3', 'web-v3', 'WORKLOAD'),
      source: { component: 'web', role: 'workload' },
    },
    traits: [
      {
        name: 'web-rollout',
        type: 'rollout',
        definition: { spec: { revisionEnabled: true } },
        object: { object: rollout },
      },
    ],
  } as unknown as RenderedComponent;
  const live = [
    obj('apps/v1', 'Deployment', 'web-v1', 'web-v1', 'WORKLOAD'),
    obj('v1', 'Service', 'web-v1', 'web-v1', 'WORKLOAD', { 'trellis.dev/output': 'service' }),
    obj('apps/v1', 'Deployment', 'web-v2', 'web-v2', 'WORKLOAD'),
    obj('v1', 'Service', 'web-v2', 'web-v2', 'WORKLOAD', { 'trellis.dev/output': 'service' }),
    obj('v1', 'Service', 'web-v2-extra', 'web-v2', 'TRAIT', {
      'trellis.dev/trait': 'web-rollout',
      'trellis.dev/output': 'service',
    }),
    obj('v1', 'ConfigMap', 'web-v2-other-trait', 'web-v2', 'TRAIT', { 'trellis.dev/trait': 'web-labels' }),
    obj('apps/v1', 'Deployment', 'web', 'web-v3', 'WORKLOAD'),
    obj('apps/v1', 'Deployment', 'web-v3', 'web-v3', 'WORKLOAD'),
    rollout,
  ];
  const byKey = new Map(live.map((o) => [entryKey(entryOf(o)), o]));
  const previous = live.map(entryOf);
  const current = new Set([entryKey(entryOf(live[7]!)), entryKey(entryOf(rollout))]);
  return { component, previous, current, live: (e: InventoryEntry) => byKey.get(entryKey(e)) };
}

describe('revisionHistory(): what older revisions keep under a revisionEnabled trait', () => {
  it("keeps every older revision (upstream) with its Service and its revisionEnabled traits' objects; lists the workloads", () => {
    const { component, previous, current, live } = setup();
    const h = revisionHistory(component, previous, current, live);
    assert.deepEqual(
      h.entries.map((e) => `${e.kind}/${e.name}`),
      ['Deployment/web-v1', 'Service/web-v1', 'Deployment/web-v2', 'Service/web-v2', 'Service/web-v2-extra'],
    );
    assert.deepEqual(
      h.workloads.map((w) => [w.revision, w.workloadRef?.name]),
      [
        ['web-v1', 'web-v1'],
        ['web-v2', 'web-v2'],
      ],
    );
  });

  it('keeps only the revisions a trait lists in status.revisions', () => {
    const { component, previous, current, live } = setup({ revisions: ['web-v3', 'web-v2'] });
    const h = revisionHistory(component, previous, current, live);
    assert.deepEqual(
      h.entries.map((e) => `${e.kind}/${e.name}`),
      ['Deployment/web-v2', 'Service/web-v2', 'Service/web-v2-extra'],
    );
  });

  it('keeps nothing for a component without a revisionEnabled trait', () => {
    const { component, previous, current, live } = setup();
    assert.deepEqual(revisionHistory({ ...component, revisionEnabled: false }, previous, current, live).entries, []);
  });
});
