import assert from 'node:assert/strict';
import path from 'node:path';
import { KUBEVELA, kubevelaDefinitions } from '../../../application/testdata/kubevela-cases.js';
import type { KubeObject } from '../../../kube/index.js';
import { testCluster } from '../../support/cluster.js';
import { useControllers } from '../../support/controllers.js';
import { kubectl } from '../../support/kubectl.js';
import { eventually, useNamespace } from '../../support/namespace.js';

type App = KubeObject & {
  status?: {
    status?: string;
    services?: { name: string; healthy: boolean; message: string }[];
    latestRevision?: { name: string };
    conditions?: { type: string; message?: string }[];
  };
};

/** Issue 16 on a real control plane: KubeVela's definitions, an Application, the controller under the chart's RBAC. */
describe('controllers: KubeVela Application (core.oam.dev/v1beta1)', () => {
  const ns = useNamespace();
  useControllers(ns);
  before(async () => {
    const applied = await kubectl(['apply', '-f', path.join(KUBEVELA, 'definitions')]);
    assert.equal(applied.code, 0, applied.stderr);
  });
  after(async () => {
    const names = kubevelaDefinitions().map(
      (d) =>
        `${d.kind === 'ComponentDefinition' ? 'componentdefinitions' : 'traitdefinitions'}.core.oam.dev/${d.metadata.name}`,
    );
    await kubectl(['delete', '--ignore-not-found', ...names]);
  });
  const app = (image: string, replicas: unknown): KubeObject => ({
    apiVersion: 'core.oam.dev/v1beta1',
    kind: 'Application',
    metadata: { name: 'shop', namespace: ns.name },
    spec: {
      components: [
        {
          name: 'web',
          type: 'webservice',
          properties: { image, ports: [{ port: 80, expose: true }] },
          traits: [{ type: 'scaler', properties: { replicas } }],
        },
      ],
    },
  });
  const get = (kind: string, name: string, apiVersion = 'apps/v1') =>
    testCluster().kube.getOrNull<KubeObject>({ apiVersion, kind, name, namespace: ns.name });

  it("applies the workload and traits, reports running with services[] in KubeVela's shape, and makes a revision per change", async () => {
    const { kube } = testCluster();
    await kube.apply(app('nginx:1.27', 2), { fieldManager: 'test' });
    const d = await eventually(
      async () => {
        const x = await get('Deployment', 'web');
        return (x?.spec as { replicas?: number } | undefined)?.replicas === 2 ? x : undefined;
      },
      { what: "the Deployment with the scaler's 2 replicas" },
    );
    assert.equal(d.metadata.labels!['app.oam.dev/appRevision'], 'shop-v1');
    assert.ok(await get('Service', 'web', 'v1'), 'the webservice exposes port 80');
    const running = await eventually(
      async () => {
        const a = (await get('Application', 'shop', 'core.oam.dev/v1beta1')) as App | undefined;
        return a?.status?.status === 'running' ? a : undefined;
      },
      { what: 'status.status running' },
    );
    assert.deepEqual(
      running.status!.services!.map((s) => [s.name, s.healthy, s.message]),
      [['web', true, 'Ready:2/2']],
    );
    assert.equal(running.status!.latestRevision!.name, 'shop-v1');
    await kube.apply(app('nginx:1.28', 2), { fieldManager: 'test' });
    await eventually(
      async () =>
        (
          (await get('Deployment', 'web'))?.spec as
            { template: { spec: { containers: { image: string }[] } } } | undefined
        )?.template.spec.containers[0].image === 'nginx:1.28' || undefined,
      { what: 'the new image' },
    );
    assert.ok(await get('ApplicationRevision', 'shop-v2', 'core.oam.dev/v1beta1'), 'the edit made revision 2');
  });

  it('invalid input is workflowFailed with the reason, and what runs stays as it was', async () => {
    const { kube } = testCluster();
    await kube.apply(app('nginx:1.28', 2), { fieldManager: 'test' });
    await eventually(
      async () =>
        ((await get('Deployment', 'web'))?.spec as { replicas?: number } | undefined)?.replicas === 2 || undefined,
      { what: 'the Deployment' },
    );
    await kube.apply(app('nginx:1.28', 'three'), { fieldManager: 'test' });
    const failed = await eventually(
      async () => {
        const a = (await get('Application', 'shop', 'core.oam.dev/v1beta1')) as App | undefined;
        return a?.status?.status === 'workflowFailed' ? a : undefined;
      },
      { what: 'status.status workflowFailed' },
    );
    assert.match(
      failed.status!.conditions!.find((c) => c.type === 'Synced')!.message!,
      /TRL_RENDER_PARAMETER.*Application\/.*spec\.components\[0\]\.traits\[0\]\.properties.*parameter "replicas"/,
    );
    assert.equal(
      ((await get('Deployment', 'web'))?.spec as { replicas: number }).replicas,
      2,
      'nothing running was changed',
    );
  });
});
