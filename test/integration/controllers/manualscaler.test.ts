import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { testCluster } from '../../support/cluster.js';
import { useControllers } from '../../support/controllers.js';
import { eventually, useNamespace } from '../../support/namespace.js';
import type { KubeObject } from '../../../kube/index.js';

const run = promisify(execFile);

describe('controllers: ManualScalerTrait (DESIGN.md §4.9)', () => {
  const ns = useNamespace();
  useControllers(ns);

  const deployment = (name: string): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns.name },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'nginx' }] } },
    },
  });
  const scaler = (workload: { apiVersion: string; kind: string; name: string }, replicaCount: number) => ({
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'ManualScalerTrait',
    metadata: { name: 'scaler', namespace: ns.name },
    spec: { replicaCount, workloadRef: workload },
  });
  const replicas = async (name: string) =>
    (
      (await testCluster().kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name, namespace: ns.name })).spec as {
        replicas: number;
      }
    ).replicas;

  it('scales the Deployment a ContainerizedWorkload produced (through its controller), and puts back a hand-edited replica count', async () => {
    const { kube, kubeconfig } = testCluster();
    // The ContainerizedWorkload controller produces its Deployment.
    await kube.apply({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ContainerizedWorkload',
      metadata: { name: 'web', namespace: ns.name },
      spec: { containers: [{ name: 'main', image: 'nginx' }] },
    });
    await kube.apply(scaler({ apiVersion: 'core.oam.dev/v1alpha2', kind: 'ContainerizedWorkload', name: 'web' }, 3));
    await eventually(async () => (await replicas('web')) === 3, { what: 'Deployment/web at 3 replicas' });
    await run('kubectl', ['--kubeconfig', kubeconfig, '-n', ns.name, 'scale', 'deployment/web', '--replicas=7']);
    await eventually(async () => (await replicas('web')) === 3, { what: 'the hand edit undone (a watch, not a poll)' });
    const trait = await kube.get({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ManualScalerTrait',
      name: 'scaler',
      namespace: ns.name,
    });
    const synced = (
      trait.status as { conditions: { type: string; status: string; message: string }[] }
    ).conditions.find((c) => c.type === 'Synced');
    assert.equal(synced?.status, 'True');
    assert.equal(synced?.message, 'Deployment/web at 3 replicas');
  });

  it('scales a workload that has replicas itself, and follows a change of replicaCount', async () => {
    const { kube } = testCluster();
    await kube.apply(deployment('api'));
    await kube.apply(scaler({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }, 2));
    await eventually(async () => (await replicas('api')) === 2, { what: '2 replicas' });
    await kube.apply(scaler({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }, 0));
    await eventually(async () => (await replicas('api')) === 0, { what: 'scaled to 0' });
  });

  it('says what it waits for when the workload does not exist', async () => {
    const { kube } = testCluster();
    await kube.apply(scaler({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'missing' }, 2));
    const cond = await eventually(
      async () =>
        (
          (
            await kube.get({
              apiVersion: 'core.oam.dev/v1alpha2',
              kind: 'ManualScalerTrait',
              name: 'scaler',
              namespace: ns.name,
            })
          ).status as { conditions?: { reason: string; message: string }[] } | undefined
        )?.conditions?.[0],
      { what: 'a condition' },
    );
    assert.deepEqual(
      { reason: cond.reason, message: cond.message },
      { reason: 'WorkloadNotFound', message: 'Deployment/missing does not exist (yet)' },
    );
  });
});
