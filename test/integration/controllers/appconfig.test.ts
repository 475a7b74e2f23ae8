import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { testCluster } from '../../support/cluster.js';
import { useControllers } from '../../support/controllers.js';
import { eventually, useNamespace } from '../../support/namespace.js';
import type { KubeObject } from '../../../kube/index.js';
import type { ApplicationConfiguration } from '../../../controllers/types.js';

const run = promisify(execFile);
const OAM = 'core.oam.dev/v1alpha2';

describe('controllers: ApplicationConfiguration', () => {
  const ns = useNamespace();
  useControllers(ns);

  const deploymentWorkload = (name: string, extra: { replicas?: number; env?: Record<string, string> } = {}) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    spec: {
      ...(extra.replicas !== undefined ? { replicas: extra.replicas } : {}),
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'main',
              image: 'nginx:1',
              ...(extra.env ? { env: Object.entries(extra.env).map(([n, value]) => ({ name: n, value })) } : {}),
            },
          ],
        },
      },
    },
  });
  const component = (name: string, workload: object) => ({
    apiVersion: OAM,
    kind: 'Component',
    metadata: { name, namespace: ns.name },
    spec: { workload },
  });
  const appConfig = (name: string, components: object[]) => ({
    apiVersion: OAM,
    kind: 'ApplicationConfiguration',
    metadata: { name, namespace: ns.name },
    spec: { components },
  });
  const get = (kind: string, name: string, apiVersion = 'apps/v1') =>
    testCluster().kube.getOrNull<KubeObject>({ apiVersion, kind, name, namespace: ns.name });
  const app = async (name: string) =>
    await testCluster().kube.get<ApplicationConfiguration>({
      apiVersion: OAM,
      kind: 'ApplicationConfiguration',
      name,
      namespace: ns.name,
    });
  const condition = async (name: string, type: string) =>
    (await app(name)).status?.conditions?.find((c) => c.type === type);
  const synced = (name: string) =>
    eventually(
      async () => {
        const a = await app(name);
        return (
          a.status?.observedGeneration === a.metadata.generation &&
          a.status?.conditions?.find((c) => c.type === 'Synced')?.status === 'True' &&
          a
        );
      },
      { what: `${name} Synced at its generation`, timeoutMs: 60_000 },
    );

  it('creates the workload named after the component, controlled by the AppConfig, with the four OAM labels, and turns Ready (§4.4)', async () => {
    const { kube } = testCluster();
    await kube.apply(component('web', deploymentWorkload('web', { replicas: 2 })));
    const created = await kube.apply(appConfig('shop', [{ componentName: 'web' }]));
    await synced('shop');
    const web = (await get('Deployment', 'web'))!;
    assert.deepEqual(web.metadata.ownerReferences, [
      {
        apiVersion: OAM,
        kind: 'ApplicationConfiguration',
        name: 'shop',
        uid: created.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    assert.equal(web.metadata.labels?.['app.oam.dev/name'], 'shop');
    assert.equal(web.metadata.labels?.['app.oam.dev/component'], 'web');
    assert.equal(web.metadata.labels?.['app.oam.dev/revision'], 'web-v1');
    assert.equal(web.metadata.labels?.['app.oam.dev/resourceType'], 'WORKLOAD');
    const ready = await eventually(async () => (await condition('shop', 'Ready'))?.status === 'True' && app('shop'), {
      what: 'Ready (pods made Ready by kwok)',
      timeoutMs: 60_000,
    });
    assert.equal(ready.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'Healthy');
    assert.deepEqual(
      ready.status?.workloads?.map((w) => [
        w.componentName,
        w.componentRevisionName,
        w.workloadRef?.kind,
        w.workloadRef?.name,
        w.healthy,
        w.message,
      ]),
      [['web', 'web-v1', 'Deployment', 'web', true, '2/2 ready']],
    );
    assert.equal(ready.status?.phase, 'running');
    const events = (await kube.list('events.k8s.io/v1', 'Event', { namespace: ns.name })).items
      .filter((e) => (e.regarding as { name: string }).name === 'shop')
      .map((e) => `${e.reason}: ${e.note}`);
    assert.ok(
      events.some((e) => /^Applied: created Deployment\/web/.test(e)),
      events.join('\n'),
    );
  });

  it("judges health by the definition's CUE health policy when it has one (webservice: customStatus 'Ready: N')", async () => {
    const { kube } = testCluster();
    await kube.apply({
      apiVersion: OAM,
      kind: 'Component',
      metadata: { name: 'front', namespace: ns.name },
      spec: { workload: { type: 'webservice', properties: { image: 'nginx:1.27' } } },
    });
    await kube.apply(
      appConfig('site', [
        { componentName: 'front', traits: [{ trait: { name: 'scaler', properties: { replicas: 2 } } }] },
      ]),
    );
    const ready = await eventually(async () => (await condition('site', 'Ready'))?.status === 'True' && app('site'), {
      what: 'Ready by the health policy',
      timeoutMs: 60_000,
    });
    assert.deepEqual(
      ready.status?.workloads?.map((w) => [w.workloadRef?.kind, w.healthy, w.message]),
      [['Deployment', true, 'Ready: 2']],
    );
  });

  it('accepts an AppConfig with no components: Synced and Ready, nothing created', async () => {
    const { kube } = testCluster();
    await kube.apply(appConfig('empty', []));
    await kube.apply({
      apiVersion: OAM,
      kind: 'ApplicationConfiguration',
      metadata: { name: 'nothing', namespace: ns.name },
      spec: {},
    });
    for (const name of ['empty', 'nothing']) {
      const a = await synced(name);
      assert.deepEqual(
        a.status?.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`),
        ['Synced=True/ReconcileSuccess', 'Ready=True/Healthy'],
      );
      assert.deepEqual(a.status?.workloads, []);
    }
  });

  it('removes a field dropped from the template, keeps labels and finalizers others added, and puts back hand-edited replicas', async () => {
    const { kube, kubeconfig } = testCluster();
    await kube.apply(component('web', deploymentWorkload('web', { replicas: 2, env: { KEEP: '1', DROP: '2' } })));
    await kube.apply(appConfig('shop', [{ componentName: 'web' }]));
    await synced('shop');
    await kube.patch(
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: ns.name },
      { metadata: { labels: { team: 'theirs' }, finalizers: ['example.com/keep'] } },
    );
    await kube.apply(component('web', deploymentWorkload('web', { replicas: 2, env: { KEEP: '1' } })));
    const env = async () =>
      (
        (await get('Deployment', 'web'))!.spec as { template: { spec: { containers: { env?: { name: string }[] }[] } } }
      ).template.spec.containers[0]!.env?.map((e) => e.name);
    await eventually(async () => (await env())?.join() === 'KEEP', { what: 'DROP removed from the Deployment' });
    const web = (await get('Deployment', 'web'))!;
    assert.equal(web.metadata.labels?.team, 'theirs');
    assert.deepEqual(web.metadata.finalizers, ['example.com/keep']);

    await run('kubectl', ['--kubeconfig', kubeconfig, '-n', ns.name, 'scale', 'deployment/web', '--replicas=5']);
    await eventually(async () => ((await get('Deployment', 'web'))!.spec as { replicas: number }).replicas === 2, {
      what: 'replicas back to 2',
    });
    await kube.patch(
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: ns.name },
      { metadata: { finalizers: null } },
    );
  });

  it('leaves a hand-edited replica count alone when an autoscaler trait owns replicas', async () => {
    const { kube, kubeconfig } = testCluster();
    await kube.apply(component('web', deploymentWorkload('web', { replicas: 2, env: { V: '1' } })));
    await kube.apply(
      appConfig('shop', [
        { componentName: 'web', traits: [{ trait: { name: 'autoscaler', properties: { min: 1, max: 10 } } }] },
      ]),
    );
    await synced('shop');
    const hpas = (await kube.list<KubeObject>('autoscaling/v2', 'HorizontalPodAutoscaler', { namespace: ns.name }))
      .items;
    assert.deepEqual(
      hpas.map((h) => (h.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name),
      ['web'],
      'the autoscaler targets the Deployment',
    );
    await run('kubectl', ['--kubeconfig', kubeconfig, '-n', ns.name, 'scale', 'deployment/web', '--replicas=4']);
    // A later change of the component is applied (so the controller has reconciled since the edit) ...
    await kube.apply(component('web', deploymentWorkload('web', { replicas: 2, env: { V: '2' } })));
    const deployment = async () =>
      (await get('Deployment', 'web'))!.spec as {
        replicas: number;
        template: { spec: { containers: { env?: { name: string; value: string }[] }[] } };
      };
    await eventually(async () => (await deployment()).template.spec.containers[0]!.env?.[0]?.value === '2', {
      what: 'the component change applied',
    });
    // ... and the replica count the autoscaler (here: a person) set stands.
    assert.equal((await deployment()).replicas, 4);
  });

  it('creates both of two traits of one kind, and deletes what a removed trait or component created (§4.6)', async () => {
    const { kube } = testCluster();
    await kube.apply(component('web', deploymentWorkload('web')));
    await kube.apply(component('api', deploymentWorkload('api')));
    const expose = (port: number) => ({ trait: { name: 'expose', properties: { ports: [{ port }] } } });
    await kube.apply(
      appConfig('shop', [{ componentName: 'web', traits: [expose(80), expose(8080)] }, { componentName: 'api' }]),
    );
    await synced('shop');
    const services = async () =>
      (await kube.list('v1', 'Service', { namespace: ns.name, labelSelector: 'app.oam.dev/name=shop' })).items
        .map((s) => `${s.metadata.name}:${(s.spec as { ports: { port: number }[] }).ports[0]!.port}`)
        .sort();
    assert.deepEqual(await services(), ['web-expose-2:8080', 'web-expose:80']);
    assert.ok(await get('Deployment', 'api'));
    await kube.apply(appConfig('shop', [{ componentName: 'web', traits: [expose(80)] }]));
    await synced('shop');
    await eventually(async () => (await services()).join() === 'web-expose:80' && !(await get('Deployment', 'api')), {
      what: 'trait and component objects pruned',
    });
  });

  it('wakes every AppConfig that uses a changed Component (upstream woke only the first)', async () => {
    const { kube } = testCluster();
    // Like conformance 01: a parameter names the workload, so each AppConfig gets its own.
    await kube.apply({
      ...component('web', deploymentWorkload('web', { env: { V: '1' } })),
      spec: {
        workload: deploymentWorkload('web', { env: { V: '1' } }),
        parameters: [{ name: 'instance-name', fieldPaths: ['metadata.name'] }],
      },
    });
    const apps = ['a', 'b', 'c'];
    for (const name of apps)
      await kube.apply(
        appConfig(name, [{ componentName: 'web', parameterValues: [{ name: 'instance-name', value: `web-${name}` }] }]),
      );
    for (const name of apps) await synced(name);
    await kube.apply({
      ...component('web', deploymentWorkload('web', { env: { V: '2' } })),
      spec: {
        workload: deploymentWorkload('web', { env: { V: '2' } }),
        parameters: [{ name: 'instance-name', fieldPaths: ['metadata.name'] }],
      },
    });
    for (const name of apps) {
      await eventually(
        async () => {
          const d = await get('Deployment', `web-${name}`);
          return (
            d?.metadata.labels?.['app.oam.dev/revision'] === 'web-v2' &&
            (d.spec as { template: { spec: { containers: { env: { value: string }[] }[] } } }).template.spec
              .containers[0]!.env[0]!.value === '2'
          );
        },
        { what: `Deployment/web-${name} on web-v2` },
      );
    }
  });

  it('deleting the AppConfig removes everything it created and nothing else', async () => {
    const { kube } = testCluster();
    await kube.apply(component('web', deploymentWorkload('web')));
    await kube.apply(
      appConfig('shop', [
        { componentName: 'web', traits: [{ trait: { name: 'expose', properties: { ports: [{ port: 80 }] } } }] },
      ]),
    );
    await synced('shop');
    await kube.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'bystander', namespace: ns.name, labels: { 'app.oam.dev/name': 'shop' } },
      data: {},
    });
    await kube.delete({ apiVersion: OAM, kind: 'ApplicationConfiguration', name: 'shop', namespace: ns.name });
    await eventually(async () => !(await get('Deployment', 'web')) && !(await get('Service', 'web-expose', 'v1')), {
      what: 'garbage collected',
      timeoutMs: 60_000,
    });
    assert.ok(await get('ConfigMap', 'bystander', 'v1'), 'an object it did not create survives, even with its label');
    assert.ok(await get('Component', 'web', OAM), "the Component is not the AppConfig's");
  });
});
