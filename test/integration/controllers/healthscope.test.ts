import assert from 'node:assert/strict';
import { testCluster } from '../../support/cluster.js';
import { useControllers } from '../../support/controllers.js';
import { eventually, useNamespace } from '../../support/namespace.js';
import type { HealthScope } from '../../../controllers/types.js';

describe('controllers: HealthScope (DESIGN.md §4.8)', () => {
  const ns = useNamespace();
  useControllers(ns);

  const deployment = (name: string, replicas: number, extra: object = {}) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns.name, labels: { 'app.oam.dev/component': name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'main', image: 'nginx', ...extra }] },
      },
    },
  });
  const scope = (refs: { kind: string; name: string; apiVersion: string }[]) => ({
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'HealthScope',
    metadata: { name: 'health', namespace: ns.name },
    spec: { 'probe-interval': 1, workloadRefs: refs },
  });
  const status = async () =>
    (
      await testCluster().kube.get<HealthScope>({
        apiVersion: 'core.oam.dev/v1alpha2',
        kind: 'HealthScope',
        name: 'health',
        namespace: ns.name,
      })
    ).status;

  it('aggregates Deployment readiness (pods made Ready by kwok) and reports missing workloads as UNKNOWN', async () => {
    const { kube } = testCluster();
    await kube.apply(deployment('web', 2));
    await kube.apply(scope([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }]));
    const healthy = await eventually(
      async () => (await status())?.scopeHealthCondition?.healthStatus === 'HEALTHY' && status(),
      { what: 'scope HEALTHY', timeoutMs: 60_000 },
    );
    assert.deepEqual(healthy!.scopeHealthCondition, {
      healthStatus: 'HEALTHY',
      total: 1,
      healthyWorkloads: 1,
      unhealthyWorkloads: 0,
      unknownWorkloads: 0,
    });
    assert.deepEqual(healthy!.healthConditions, [
      {
        componentName: 'web',
        targetWorkload: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        healthStatus: 'HEALTHY',
        diagnosis: '2/2 ready',
      },
    ]);

    await kube.apply(
      scope([
        { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        { apiVersion: 'apps/v1', kind: 'Deployment', name: 'gone' },
      ]),
    );
    const partly = await eventually(async () => (await status())?.scopeHealthCondition?.total === 2 && status(), {
      what: 'two workloads',
    });
    assert.equal(partly!.scopeHealthCondition?.healthStatus, 'UNKNOWN');
    assert.equal(partly!.healthConditions?.[1]?.diagnosis, 'workload not found');
    const ready = partly!.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.match(ready?.message ?? '', /Deployment\/gone: workload not found/);
  });

  it('turns UNHEALTHY when a workload loses readiness, naming it', async () => {
    const { kube } = testCluster();
    await kube.apply(deployment('web', 1));
    await kube.apply(scope([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }]));
    await eventually(async () => (await status())?.scopeHealthCondition?.healthStatus === 'HEALTHY', {
      what: 'HEALTHY first',
      timeoutMs: 60_000,
    });
    // More replicas than can be scheduled: a pod asking for more CPU than a node has stays Pending.
    await kube.apply(deployment('web', 2, { resources: { requests: { cpu: '1000' } } }));
    const bad = await eventually(
      async () => (await status())?.scopeHealthCondition?.healthStatus === 'UNHEALTHY' && status(),
      { what: 'UNHEALTHY', timeoutMs: 60_000 },
    );
    assert.match(bad!.healthConditions?.[0]?.diagnosis ?? '', /ready|updated|rollout/);
  });
});
