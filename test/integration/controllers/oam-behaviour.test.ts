/**
 * The upstream OAM v1alpha2 behaviours of DESIGN.md §4 (1–9), each against the real control plane
 * with the controllers running as the chart's ServiceAccount, fed the conformance inputs unchanged
 * (only given the test's namespace; the v1beta1 CRD of 04 translated as its README allows).
 */
import assert from 'node:assert/strict';
import { testCluster } from '../../support/cluster.js';
import { conformanceObjects, upgradeV1beta1Crd } from '../../support/conformance.js';
import { useControllers } from '../../support/controllers.js';
import { eventually, useNamespace } from '../../support/namespace.js';
import { waitForEstablished } from '../../support/cluster.js';
import type { KubeObject } from '../../../kube/index.js';
import type { ApplicationConfiguration, Component, HealthScope } from '../../../controllers/types.js';

const OAM = 'core.oam.dev/v1alpha2';

describe('OAM v1alpha2 behaviour (DESIGN.md §4) with the conformance inputs', () => {
  const ns = useNamespace();
  useControllers(ns);

  /** Applies conformance objects: namespaced ones into the test namespace, cluster-scoped as they are. */
  async function applyConformance(files: string[], only?: (o: KubeObject) => boolean) {
    const { kube } = testCluster();
    const applied: KubeObject[] = [];
    for (const { object } of conformanceObjects(files)) {
      if (only && !only(object)) continue;
      const obj = upgradeV1beta1Crd(object);
      const info = obj.kind === 'CustomResourceDefinition' ? undefined : await kube.resource(obj.apiVersion, obj.kind);
      const placed = info?.namespaced ? { ...obj, metadata: { ...obj.metadata, namespace: ns.name } } : obj;
      applied.push(await kube.apply(placed));
      if (obj.kind === 'CustomResourceDefinition') {
        await waitForEstablished(kube, obj.metadata.name!);
        kube.mapper.invalidate();
      }
    }
    return applied;
  }
  const get = <T extends KubeObject = KubeObject>(apiVersion: string, kind: string, name: string) =>
    testCluster().kube.getOrNull<T>({ apiVersion, kind, name, namespace: ns.name });
  const app = (name = 'example-appconfig') => get<ApplicationConfiguration>(OAM, 'ApplicationConfiguration', name);
  const synced = (name = 'example-appconfig') =>
    eventually(
      async () => {
        const a = await app(name);
        return (
          a?.status?.observedGeneration === a?.metadata.generation &&
          a?.status?.conditions?.find((c) => c.type === 'Synced')?.status === 'True' &&
          a
        );
      },
      { what: `${name} Synced`, timeoutMs: 60_000 },
    );
  const latest = async (name: string) => (await get<Component>(OAM, 'Component', name))?.status?.latestRevision?.name;
  const chartDefinitions = () =>
    applyConformance([
      '14a-chart-workloaddefinition-containerizedworkload.yaml',
      '14b-chart-traitdefinition-manualscaler.yaml',
      '14c-chart-scopedefinition-healthscope.yaml',
    ]);

  it('§4.1 a Component (01) gets revision example-component-v1, owned by it, named in status.latestRevision', async () => {
    const [component] = await applyConformance(['01-containerized-workload-component.yaml']);
    await eventually(async () => (await latest('example-component')) === 'example-component-v1', {
      what: 'latestRevision',
    });
    const rev = await get('apps/v1', 'ControllerRevision', 'example-component-v1');
    assert.equal(rev?.metadata.ownerReferences?.[0]?.uid, component!.metadata.uid);
    assert.deepEqual((rev as unknown as { data: { spec: unknown } }).data.spec, component!.spec);
  });

  it('§4.3 + §4.4 + §4.9: 01/02/03 render a ContainerizedWorkload named after the component with the parameter set; it becomes a Deployment + Service; the ManualScalerTrait sets 3 replicas', async () => {
    await chartDefinitions();
    await applyConformance(['01-containerized-workload-component.yaml', '03-healthscope-instance.yaml']);
    const [created] = await applyConformance(['02-containerized-workload-appconfig.yaml']);
    await synced();
    const cw = (await get(OAM, 'ContainerizedWorkload', 'example-component'))!;
    assert.equal(
      (cw.spec as { containers: { image: string }[] }).containers[0]!.image,
      'wordpress:php7.2',
      'parameterValues "image" written to spec.containers[0].image',
    );
    assert.deepEqual(
      cw.metadata.ownerReferences?.map((o) => `${o.kind}/${o.name}/${o.uid}/${o.controller}`),
      [`ApplicationConfiguration/example-appconfig/${created!.metadata.uid}/true`],
    );
    assert.deepEqual(
      ['app.oam.dev/name', 'app.oam.dev/component', 'app.oam.dev/revision', 'app.oam.dev/resourceType'].map(
        (l) => cw.metadata.labels?.[l],
      ),
      ['example-appconfig', 'example-component', 'example-component-v1', 'WORKLOAD'],
    );
    const deployment = await eventually(() => get('apps/v1', 'Deployment', 'example-component'), {
      what: 'the Deployment of the ContainerizedWorkload',
    });
    assert.equal(deployment.metadata.ownerReferences?.find((o) => o.controller)?.kind, 'ContainerizedWorkload');
    const service = (await eventually(() => get('v1', 'Service', 'example-component'), {
      what: 'the Service for its port',
    }))!;
    assert.deepEqual(
      (service.spec as { ports: { port: number }[] }).ports.map((p) => p.port),
      [80],
    );
    await eventually(
      async () =>
        ((await get('apps/v1', 'Deployment', 'example-component'))!.spec as { replicas: number }).replicas === 3,
      { what: 'replicas 3 from the ManualScalerTrait' },
    );
  });

  it("§4.5 the trait gets workloadRef at the definition's workloadRefPath (14b: spec.workloadRef)", async () => {
    await chartDefinitions();
    await applyConformance([
      '01-containerized-workload-component.yaml',
      '03-healthscope-instance.yaml',
      '02-containerized-workload-appconfig.yaml',
    ]);
    await synced();
    const trait = (await get(OAM, 'ManualScalerTrait', 'example-appconfig-trait'))!;
    assert.deepEqual((trait.spec as { workloadRef: unknown }).workloadRef, {
      apiVersion: OAM,
      kind: 'ContainerizedWorkload',
      name: 'example-component',
    });
    assert.equal(trait.metadata.labels?.['app.oam.dev/resourceType'], 'TRAIT');
  });

  it('§4.8 the HealthScope (03) aggregates the workload 02 puts in it; deleting the AppConfig takes it out again (finalizer)', async () => {
    const { kube } = testCluster();
    await chartDefinitions();
    await applyConformance([
      '01-containerized-workload-component.yaml',
      '03-healthscope-instance.yaml',
      '02-containerized-workload-appconfig.yaml',
    ]);
    await synced();
    const scope = () => get<HealthScope>(OAM, 'HealthScope', 'example-health-scope');
    // HEALTHY with the Deployment at the 3 replicas the ManualScalerTrait asks for (pods made Ready by kwok).
    let last = '';
    await eventually(
      async () => /3\/3 ready/.test((last = JSON.stringify((await scope())?.status?.healthConditions ?? []))),
      { what: 'scope HEALTHY at 3/3', timeoutMs: 90_000 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last: ${last}`);
    });
    const s = (await scope())!;
    assert.deepEqual(s.spec?.workloadRefs, [
      { apiVersion: OAM, kind: 'ContainerizedWorkload', name: 'example-component' },
    ]);
    assert.deepEqual(s.status?.scopeHealthCondition, {
      healthStatus: 'HEALTHY',
      total: 1,
      healthyWorkloads: 1,
      unhealthyWorkloads: 0,
      unknownWorkloads: 0,
    });
    assert.match(
      s.status?.healthConditions?.[0]?.diagnosis ?? '',
      /^Deployment\/example-component: 3\/3 ready; Service\/example-component: exists$/,
    );
    const a = await eventually(
      async () => (await app())?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && app(),
      { what: 'AppConfig Ready', timeoutMs: 60_000 },
    );
    assert.ok(a!.metadata.finalizers?.includes('trellis.dev/scopes'));
    await kube.delete({
      apiVersion: OAM,
      kind: 'ApplicationConfiguration',
      name: 'example-appconfig',
      namespace: ns.name,
    });
    await eventually(async () => (await scope())?.spec?.workloadRefs?.length !== 1 && !(await app()), {
      what: 'workload ref removed and the AppConfig gone',
    });
  });

  it('§4.2 an entry pinned with revisionName (09) renders that revision, not the latest', async () => {
    const { kube } = testCluster();
    await chartDefinitions();
    const [component] = await applyConformance(['01-containerized-workload-component.yaml']);
    await eventually(async () => (await latest('example-component')) === 'example-component-v1', { what: 'v1' });
    const spec = structuredClone(component!.spec) as { workload: { spec: { containers: { image: string }[] } } };
    spec.workload.spec.containers[0]!.image = 'wordpress:5';
    await kube.apply({ ...component!, metadata: { name: 'example-component', namespace: ns.name }, spec });
    await eventually(async () => (await latest('example-component')) === 'example-component-v2', { what: 'v2' });
    await applyConformance(['09-pinned-revisionName-appconfig.yaml']);
    const a = await synced();
    const cw = (await get(OAM, 'ContainerizedWorkload', 'example-component'))!;
    assert.equal((cw.spec as { containers: { image: string }[] }).containers[0]!.image, 'wordpress:4.6.1-apache');
    assert.equal(cw.metadata.labels?.['app.oam.dev/revision'], 'example-component-v1');
    assert.equal(a.status?.workloads?.[0]?.componentRevisionName, 'example-component-v1');
  });

  it('§4.3 an unknown parameter and a missing required one are errors naming the parameter, in status and as Events', async () => {
    const { kube } = testCluster();
    const [component] = await applyConformance(['01-containerized-workload-component.yaml']);
    await kube.apply({
      apiVersion: OAM,
      kind: 'ApplicationConfiguration',
      metadata: { name: 'bad', namespace: ns.name },
      spec: {
        components: [{ componentName: 'example-component', parameterValues: [{ name: 'colour', value: 'red' }] }],
      },
    });
    const failed = await eventually(
      async () => (await app('bad'))?.status?.conditions?.find((c) => c.type === 'Synced' && c.status === 'False'),
      { what: 'Synced=False' },
    );
    assert.equal(failed.reason, 'ReconcileError', "upstream's Synced reason");
    assert.equal((await app('bad'))?.status?.syncReason, 'RenderFailed');
    assert.match(failed.message ?? '', /TRL_RENDER_PARAMETER_UNKNOWN.*"colour"/);
    const params = [
      ...(component!.spec as { parameters: object[] }).parameters,
      { name: 'replicas', required: true, fieldPaths: ['spec.replicas'] },
    ];
    await kube.apply({
      ...component!,
      metadata: { name: 'example-component', namespace: ns.name },
      spec: { ...(component!.spec as object), parameters: params },
    });
    await kube.apply({
      apiVersion: OAM,
      kind: 'ApplicationConfiguration',
      metadata: { name: 'bad', namespace: ns.name },
      spec: { components: [{ componentName: 'example-component' }] },
    });
    await eventually(
      async () =>
        /TRL_RENDER_PARAMETER_MISSING.*"replicas"/.test(
          (await app('bad'))?.status?.conditions?.find((c) => c.type === 'Synced')?.message ?? '',
        ),
      { what: 'missing parameter named' },
    );
    const events = (await kube.list('events.k8s.io/v1', 'Event', { namespace: ns.name })).items
      .filter((e) => e.reason === 'RenderFailed')
      .map((e) => e.note as string);
    assert.ok(
      events.some((n) => /"colour"/.test(n)),
      events.join('\n'),
    );
  });

  it('§4.7 04/05: the sink waits (not created, reason in status) until source status.key is set; values propagate; a consumer is held back, not deleted', async () => {
    const { kube } = testCluster();
    await applyConformance(['04-dependency-definitions.yaml', '05-dependency-dataoutput-datainput.yaml']);
    // Until the controller has seen the source it says "Foo/source does not exist yet"; then it waits for status.key.
    const notSet = async () => {
      const a = await app();
      if (a?.status?.dependency?.unsatisfied?.[0]?.reason === 'status.key is not set yet') return a;
      throw new Error(`status.dependency is ${JSON.stringify(a?.status?.dependency)}`);
    };
    const waiting = await eventually(notSet, { what: 'the dependency waiting for status.key', timeoutMs: 60_000 });
    assert.deepEqual(waiting!.status?.dependency?.unsatisfied, [
      {
        reason: 'status.key is not set yet',
        from: { apiVersion: 'example.com/v1', kind: 'Foo', name: 'source', fieldPath: 'status.key' },
        to: { apiVersion: 'example.com/v1', kind: 'Foo', name: 'sink', fieldPaths: ['spec.key'] },
      },
    ]);
    assert.equal(waiting!.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'DependencyUnsatisfied');
    assert.ok(await get('example.com/v1', 'Foo', 'source'));
    assert.equal(await get('example.com/v1', 'Foo', 'sink'), undefined, 'the consumer is not created');

    const setKey = (key: unknown) =>
      kube.patch(
        { apiVersion: 'example.com/v1', kind: 'Foo', name: 'source', namespace: ns.name },
        { status: { key } },
        'merge',
        'status',
      );
    await setKey('test');
    const sinkKey = async () =>
      ((await get('example.com/v1', 'Foo', 'sink'))?.spec as { key?: unknown } | undefined)?.key;
    await eventually(async () => (await sinkKey()) === 'test', { what: 'sink created with spec.key = test' });
    await eventually(
      async () =>
        (await app())?.status?.dependency === undefined &&
        (await app())?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True',
      { what: 'dependency satisfied in status, Ready' },
    );

    // An array is appended to the one the sink renders with, as upstream does (05's commented-out source).
    await setKey([{ name: 'a', value: 'aa' }]);
    await eventually(
      async () => JSON.stringify(await sinkKey()) === '[{"name":"exist","value":"existtt"},{"name":"a","value":"aa"}]',
      { what: 'the new value appended' },
    );

    await setKey('');
    await eventually(
      async () => (await app())?.status?.dependency?.unsatisfied?.[0]?.reason === 'status.key is empty',
      { what: 'unsatisfied again' },
    );
    assert.ok(await get('example.com/v1', 'Foo', 'sink'), 'held back, not deleted');
  });

  it('§4.5 with a revisionEnabled trait (08) workloads are named after the revision; older ones are kept and listed in historyWorkloads', async () => {
    const { kube } = testCluster();
    // 08 names a trait CRD that no conformance file defines: a minimal one, and RBAC for it (aggregated into the controller's role).
    await kube.apply({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'simplerollouttraits.extend.oam.dev' },
      spec: {
        group: 'extend.oam.dev',
        scope: 'Namespaced',
        names: {
          kind: 'SimpleRolloutTrait',
          plural: 'simplerollouttraits',
          singular: 'simplerollouttrait',
          listKind: 'SimpleRolloutTraitList',
        },
        versions: [
          {
            name: 'v1alpha2',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        ],
      },
    });
    await waitForEstablished(kube, 'simplerollouttraits.extend.oam.dev');
    await kube.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'test-simplerollout', labels: { 'trellis.dev/aggregate-to-controller': 'true' } },
      rules: [
        {
          apiGroups: ['extend.oam.dev'],
          resources: ['simplerollouttraits'],
          verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
        },
      ],
    });
    await chartDefinitions();
    await applyConformance(['08-revision-enabled-traitdefinition.yaml']);
    const [component] = await applyConformance(['01-containerized-workload-component.yaml']);
    await eventually(async () => (await latest('example-component')) === 'example-component-v1', { what: 'v1' });
    await kube.apply({
      apiVersion: OAM,
      kind: 'ApplicationConfiguration',
      metadata: { name: 'example-appconfig', namespace: ns.name },
      spec: {
        components: [
          {
            componentName: 'example-component',
            traits: [
              {
                trait: {
                  apiVersion: 'extend.oam.dev/v1alpha2',
                  kind: 'SimpleRolloutTrait',
                  metadata: { name: 'rollout' },
                  spec: {},
                },
              },
            ],
          },
        ],
      },
    });
    await synced();
    assert.ok(await get(OAM, 'ContainerizedWorkload', 'example-component-v1'), 'workload named after the revision');
    const spec = structuredClone(component!.spec) as { workload: { spec: { containers: { image: string }[] } } };
    spec.workload.spec.containers[0]!.image = 'wordpress:5';
    await kube.apply({ ...component!, metadata: { name: 'example-component', namespace: ns.name }, spec });
    const a = await eventually(
      async () => (await app())?.status?.workloads?.[0]?.componentRevisionName === 'example-component-v2' && app(),
      { what: 'on v2' },
    );
    assert.ok(await get(OAM, 'ContainerizedWorkload', 'example-component-v2'));
    assert.ok(await get(OAM, 'ContainerizedWorkload', 'example-component-v1'), 'the older workload is kept');
    assert.deepEqual(a!.status?.historyWorkloads, [
      {
        revision: 'example-component-v1',
        workloadRef: { apiVersion: OAM, kind: 'ContainerizedWorkload', name: 'example-component-v1' },
      },
    ]);
    const rollout = (await get('extend.oam.dev/v1alpha2', 'SimpleRolloutTrait', 'rollout'))!;
    assert.deepEqual((rollout.spec as { workloadRef: unknown }).workloadRef, {
      apiVersion: OAM,
      kind: 'ContainerizedWorkload',
      name: 'example-component-v2',
    });
  });
});
