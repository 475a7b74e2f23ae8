import assert from 'node:assert/strict';
import { testCluster } from '../../support/cluster.js';
import { useControllers } from '../../support/controllers.js';
import { eventually, useNamespace } from '../../support/namespace.js';
import type { KubeObject } from '../../../kube/index.js';
import type { ApplicationConfiguration } from '../../../controllers/types.js';

const OAM = 'core.oam.dev/v1alpha2';

describe('controllers across a restart of the API server', () => {
  const ns = useNamespace();
  useControllers(ns);

  const component = (image: string) => ({
    apiVersion: OAM,
    kind: 'Component',
    metadata: { name: 'web', namespace: ns.name },
    spec: {
      workload: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', image }] } },
        },
      },
      parameters: [{ name: 'name', fieldPaths: ['metadata.name'] }],
    },
  });
  const app = (name: string) => ({
    apiVersion: OAM,
    kind: 'ApplicationConfiguration',
    metadata: { name, namespace: ns.name },
    spec: { components: [{ componentName: 'web', parameterValues: [{ name: 'name', value: name }] }] },
  });
  const deployment = (name: string) =>
    testCluster().kube.getOrNull<KubeObject>({ apiVersion: 'apps/v1', kind: 'Deployment', name, namespace: ns.name });
  const image = (d: KubeObject | undefined) =>
    (d?.spec as { template: { spec: { containers: { image: string }[] } } } | undefined)?.template.spec.containers[0]!
      .image;

  it('misses no change made just before, during the outage or right after', async function () {
    this.timeout(300_000);
    const { kube, controlPlane } = testCluster();
    await kube.apply(component('nginx:1'));
    for (const name of ['a', 'b', 'c']) await kube.apply(app(name));
    await eventually(
      async () => (await Promise.all(['a', 'b', 'c'].map(deployment))).every((d) => image(d) === 'nginx:1'),
      { what: 'three Deployments', timeoutMs: 60_000 },
    );

    await kube.apply(component('nginx:2')); // just before: may or may not have been seen when the server goes away
    await controlPlane.restartApiServer();
    // Right after: the controllers' watches are still reconnecting (and re-listing after 410 Gone).
    await kube.delete({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'a', namespace: ns.name });
    await kube.patch(
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'b', namespace: ns.name },
      { spec: { replicas: 7 } },
    );
    await kube.apply(app('d'));

    await eventually(
      async () => {
        const ds = await Promise.all(['a', 'b', 'c', 'd'].map(deployment));
        return ds.every(
          (d) =>
            image(d) === 'nginx:2' &&
            d!.metadata.labels?.['app.oam.dev/revision'] === 'web-v2' &&
            (d!.spec as { replicas: number }).replicas === 2,
        );
      },
      { what: 'every Deployment on web-v2 with 2 replicas, a recreated, d created', timeoutMs: 90_000 },
    );
    // The status is written after the children are applied: wait for it too, then say what it holds.
    const synced = async () =>
      (await kube.list<ApplicationConfiguration>(OAM, 'ApplicationConfiguration', { namespace: ns.name })).items
        .map(
          (a) =>
            `${a.metadata.name}:${a.status?.conditions?.find((c) => c.type === 'Synced')?.status}:${a.status?.workloads?.[0]?.componentRevisionName}`,
        )
        .sort();
    const want = ['a:True:web-v2', 'b:True:web-v2', 'c:True:web-v2', 'd:True:web-v2'];
    await eventually(async () => JSON.stringify(await synced()) === JSON.stringify(want), {
      what: 'every AppConfig Synced on web-v2',
      timeoutMs: 30_000,
    }).catch(() => undefined);
    assert.deepEqual(await synced(), want);
    // Every watch comes back, including those of kinds nothing changed in: a restarted API server
    // refuses requests (403) until its RBAC authorizer has caught up, and the informers retry with
    // backoff. Each refusal must be followed by a success of the same request before the controllers
    // stop (the run's RBAC audit counts a refusal never followed by one as a missing chart rule).
    await eventually(async () => (await testCluster().forbiddenRequests()).length === 0, {
      what: "the controllers' refused watches to be re-established after the restart",
      timeoutMs: 90_000,
    });
  });
});
