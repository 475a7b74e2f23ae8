import assert from 'node:assert/strict';
import { appliesTo, findConflict, matchesWorkload } from './applies-to.js';
import { mergePatch } from './patch.js';

const deployment = { type: 'webservice', apiVersion: 'apps/v1', kind: 'Deployment', resourceName: 'deployments.apps' };
const cw = {
  type: 'containerizedworkloads.core.oam.dev',
  apiVersion: 'core.oam.dev/v1alpha2',
  kind: 'ContainerizedWorkload',
  resourceName: 'containerizedworkloads.core.oam.dev',
};
const trait = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'core.oam.dev/v1alpha2' as const,
  kind: 'TraitDefinition' as const,
  metadata: { name },
  spec,
});

describe('bind: appliesToWorkloads, conflictsWith, patches', () => {
  it('matches every documented appliesToWorkloads form, against the definition and the rendered kind', () => {
    for (const entry of ['*', 'webservice', 'deployments.apps', 'Deployment.apps', '*.apps', 'apps/v1.Deployment'])
      assert.ok(matchesWorkload(entry, deployment), entry);
    for (const entry of ['worker', 'statefulsets.apps', 'Deployment.batch', '*.batch', 'apps/v1.StatefulSet'])
      assert.ok(!matchesWorkload(entry, deployment), entry);
    assert.ok(matchesWorkload('core.oam.dev/v1alpha2.ContainerizedWorkload', cw), 'the form of conformance 08');
    assert.ok(matchesWorkload('Service', { type: 'x', apiVersion: 'v1', kind: 'Service' }), 'core kinds by kind alone');
    assert.ok(appliesTo(trait('t'), deployment), 'no appliesToWorkloads: any');
    assert.ok(!appliesTo(trait('t', { appliesToWorkloads: ['worker'] }), deployment));
  });

  it('conflictsWith holds in both directions, and * means any other type', () => {
    const scaler = { name: 'a', type: 'scaler', definition: trait('scaler', { conflictsWith: ['autoscaler'] }) };
    const autoscaler = { name: 'b', type: 'autoscaler', definition: trait('autoscaler') };
    const loner = { name: 'c', type: 'loner', definition: trait('loner', { conflictsWith: ['*'] }) };
    assert.equal(findConflict([autoscaler, scaler])?.declaredBy, scaler);
    assert.equal(findConflict([scaler, { ...scaler, name: 'a2' }]), undefined);
    assert.equal(findConflict([loner, { ...loner, name: 'c2' }]), undefined, 'two of one type never conflict by *');
    assert.equal(findConflict([loner, autoscaler])?.declaredBy, loner);
  });

  it('merges patches key by key and named lists item by item; two traits disagreeing on a field is an error', () => {
    const workload: Record<string, unknown> = {
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'app', env: [{ name: 'A', value: '1' }], volumeMounts: [{ name: 'v', mountPath: '/a' }] },
            ],
          },
        },
      },
    };
    const owners = new Map<string, string>();
    mergePatch(
      workload,
      {
        spec: {
          replicas: 2,
          template: {
            spec: {
              containers: [
                { name: 'app', env: [{ name: 'B', value: '2' }], volumeMounts: [{ name: 'v', mountPath: '/b' }] },
                { name: 'side', image: 's' },
              ],
            },
          },
        },
      },
      { trait: 't1', owners, object: 'AC', field: 'f' },
    );
    assert.deepEqual(workload, {
      spec: {
        replicas: 2,
        template: {
          spec: {
            containers: [
              {
                name: 'app',
                env: [
                  { name: 'A', value: '1' },
                  { name: 'B', value: '2' },
                ],
                volumeMounts: [
                  { name: 'v', mountPath: '/a' },
                  { name: 'v', mountPath: '/b' },
                ],
              },
              { name: 'side', image: 's' },
            ],
          },
        },
      },
    });
    mergePatch(workload, { spec: { replicas: 2 } }, { trait: 't2', owners, object: 'AC', field: 'f' });
    assert.throws(
      () =>
        mergePatch(
          workload,
          { spec: { replicas: 3 } },
          { trait: 't3', owners, object: 'AC', field: 'spec.components[0].traits[2]' },
        ),
      {
        code: 'TRL_BIND_PATCH_CONFLICT',
        message:
          '[TRL_BIND_PATCH_CONFLICT] AC: spec.components[0].traits[2]: traits "t2" and "t3" both set spec.replicas of the workload, to 2 and 3',
      },
    );
  });

  it('two traits setting a list to the same items, keys in another order, do not conflict', () => {
    const workload: Record<string, unknown> = { spec: { template: { spec: {} } } };
    const owners = new Map<string, string>();
    const toleration = (order: 'a' | 'b') =>
      order === 'a'
        ? { key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }
        : { effect: 'NoSchedule', key: 'gpu', operator: 'Exists' };
    mergePatch(
      workload,
      { spec: { template: { spec: { tolerations: [toleration('a')] } } } },
      { trait: 'gpu', owners, object: 'AC', field: 'f' },
    );
    assert.doesNotThrow(() =>
      mergePatch(
        workload,
        { spec: { template: { spec: { tolerations: [toleration('b')] } } } },
        { trait: 'gpu-nodes', owners, object: 'AC', field: 'f' },
      ),
    );
    assert.throws(
      () =>
        mergePatch(
          workload,
          { spec: { template: { spec: { tolerations: [{ ...toleration('b'), effect: 'NoExecute' }] } } } },
          { trait: 'other', owners, object: 'AC', field: 'f' },
        ),
      { code: 'TRL_BIND_PATCH_CONFLICT' },
    );
  });
});
