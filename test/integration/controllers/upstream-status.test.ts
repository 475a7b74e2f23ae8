/**
 * What tools written for the upstream OAM runtime read and write (issue 18, items 5–7): status by
 * upstream's field names and reasons, `status` strings other controllers write, traits without a
 * TraitDefinition, and data flow as upstream's runtime does it — ordering-only outputs and
 * store-based passing (examples/data-passing and its dependency_test.go).
 */
import assert from 'node:assert/strict';
import type { ApplicationConfiguration } from '../../../controllers/types.js';
import type { KubeObject } from '../../../kube/index.js';
import { testCluster, waitForEstablished } from '../../support/cluster.js';
import { conformanceObjects, upgradeV1beta1Crd } from '../../support/conformance.js';
import { useControllers, waitUntilControllerMay } from '../../support/controllers.js';
import { eventually, useNamespace } from '../../support/namespace.js';

const OAM = 'core.oam.dev/v1alpha2';
const NO_DEFINITION = 'No valid TraitDefinition found, all framework capabilities will work as default or disabled';

describe('upstream-compatible status and data flow (issue 18)', () => {
  const ns = useNamespace('us');
  useControllers(ns);
  const getApp = (name: string) =>
    testCluster().kube.getOrNull<ApplicationConfiguration>({
      apiVersion: OAM,
      kind: 'ApplicationConfiguration',
      name,
      namespace: ns.name,
    });
  const get = (apiVersion: string, kind: string, name: string) =>
    testCluster().kube.getOrNull({ apiVersion, kind, name, namespace: ns.name });
  const synced = (name: string) =>
    eventually(
      async () => {
        const a = await getApp(name);
        return (
          a?.status?.observedGeneration === a?.metadata.generation &&
          a?.status?.conditions?.find((c) => c.type === 'Synced')?.status === 'True' &&
          a
        );
      },
      { what: `${name} Synced`, timeoutMs: 60_000 },
    );

  async function applyAll(objects: KubeObject[]): Promise<void> {
    const { kube } = testCluster();
    for (const o of objects) {
      const obj = upgradeV1beta1Crd(o);
      const info =
        obj.kind === 'CustomResourceDefinition' || obj.kind === 'ClusterRole'
          ? undefined
          : await kube.resource(obj.apiVersion, obj.kind).catch(() => undefined);
      await kube.apply(info?.namespaced ? { ...obj, metadata: { ...obj.metadata, namespace: ns.name } } : obj);
      if (obj.kind === 'CustomResourceDefinition') {
        await waitForEstablished(kube, obj.metadata.name!);
        kube.mapper.invalidate();
      }
    }
  }
  /** 04's Foo CRD and definitions, 05's ClusterRole for Foo, and RBAC for the ConfigMaps stores are (both aggregated into the controller's role). */
  async function fooDefinitions(): Promise<void> {
    const objects = conformanceObjects(['04-dependency-definitions.yaml', '05-dependency-dataoutput-datainput.yaml'])
      .map((d) => d.object)
      .filter((o) => o.kind !== 'Component' && o.kind !== 'ApplicationConfiguration');
    await applyAll(objects);
    await waitUntilControllerMay('example.com', 'foo');
  }
  const foo = (name: string, spec?: object) => ({
    apiVersion: 'example.com/v1',
    kind: 'Foo',
    metadata: { name },
    ...(spec ? { spec } : {}),
  });
  const component = (name: string, workload: object) => ({
    apiVersion: OAM,
    kind: 'Component',
    metadata: { name },
    spec: { workload },
  });

  it("status by upstream's names and Synced reason; a status string others write is kept; a trait without a definition is applied with upstream's message", async () => {
    const { kube } = testCluster();
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
      },
    };
    await applyAll([
      component('web', deployment),
      { apiVersion: OAM, kind: 'HealthScope', metadata: { name: 'health' }, spec: { workloadRefs: [] } },
      {
        apiVersion: OAM,
        kind: 'ApplicationConfiguration',
        metadata: { name: 'app' },
        spec: {
          components: [
            {
              componentName: 'web',
              traits: [
                {
                  trait: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web-settings' }, data: { a: '1' } },
                },
              ],
              scopes: [{ scopeRef: { apiVersion: OAM, kind: 'HealthScope', name: 'health' } }],
            },
          ],
        },
      },
    ] as KubeObject[]);
    const app = await synced('app');
    assert.equal(app.status?.conditions?.find((c) => c.type === 'Synced')?.reason, 'ReconcileSuccess');
    const w = app.status?.workloads?.[0];
    assert.deepEqual(w?.workloadRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' });
    assert.deepEqual(
      w?.traits?.map((t) => [t.traitRef, t.message]),
      [[{ apiVersion: 'v1', kind: 'ConfigMap', name: 'web-settings' }, NO_DEFINITION]],
    );
    assert.deepEqual(
      w?.scopes?.map((s) => s.scopeRef),
      [{ apiVersion: OAM, kind: 'HealthScope', name: 'health' }],
    );
    assert.ok(await get('v1', 'ConfigMap', 'web-settings'), 'the trait without a TraitDefinition is applied');
    await eventually(
      async () =>
        ((await get(OAM, 'HealthScope', 'health'))?.status as { healthConditions?: unknown[] } | undefined)
          ?.healthConditions?.length === 1,
      { what: 'HealthScope status.healthConditions' },
    );

    // Another controller writes upstream's placeholders (a merge patch of the status, as a custom controller would).
    const workloads = app.status!.workloads!.map((x) => ({
      ...x,
      status: 'custom: serving',
      traits: x.traits?.map((t) => ({ ...t, status: 'custom: trait' })),
    }));
    await kube.patch(
      { apiVersion: OAM, kind: 'ApplicationConfiguration', name: 'app', namespace: ns.name },
      { status: { status: 'custom: app', workloads } },
      'merge',
      'status',
    );
    await kube.apply({
      ...component('web', { ...deployment, spec: { ...deployment.spec, replicas: 2 } }),
      metadata: { name: 'web', namespace: ns.name },
    } as KubeObject);
    const after = await eventually(
      async () => {
        const a = await getApp('app');
        return a?.status?.workloads?.[0]?.componentRevisionName === 'web-v2' && a;
      },
      { what: 'reconciled after a Component change' },
    );
    assert.equal(after.status?.status, 'custom: app');
    assert.equal(after.status?.workloads?.[0]?.status, 'custom: serving');
    assert.equal(after.status?.workloads?.[0]?.traits?.[0]?.status, 'custom: trait');
    assert.equal(after.status?.phase !== undefined, true, "Trellis' own rolled-up phase is in status.phase");
  });

  it('a dataOutput without fieldPath orders only: the consumer is created once the producer exists', async () => {
    await fooDefinitions();
    await applyAll([
      component('first', foo('first', { key: 'x' })),
      component('second', foo('second', { key: 'y' })),
      {
        apiVersion: OAM,
        kind: 'ApplicationConfiguration',
        metadata: { name: 'ordered' },
        spec: {
          components: [
            { componentName: 'first', dataOutputs: [{ name: 'first-exists' }] },
            { componentName: 'second', dataInputs: [{ valueFrom: { dataOutputName: 'first-exists' } }] },
          ],
        },
      },
    ] as KubeObject[]);
    const app = await eventually(
      async () => {
        const a = await getApp('ordered');
        return (
          a?.status?.dependency === undefined &&
          a?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' &&
          a
        );
      },
      { what: 'ordering-only dependency satisfied', timeoutMs: 60_000 },
    );
    const [first, second] = [await get('example.com/v1', 'Foo', 'first'), await get('example.com/v1', 'Foo', 'second')];
    assert.ok(first && second, JSON.stringify(app.status));
    assert.deepEqual(second.spec, { key: 'y' }, 'nothing written into the consumer');
  });

  it("store-based data passing (examples/data-passing): the producer's values go through a ConfigMap into the consumer", async () => {
    await fooDefinitions();
    await applyAll([
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'upstream-status-configmaps', labels: { 'rbac.oam.dev/aggregate-to-controller': 'true' } },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['*'] }],
      },
    ] as KubeObject[]);
    await waitUntilControllerMay('', 'configmaps');
    const store = { apiVersion: 'v1', kind: 'ConfigMap', name: 'store' };
    const op = (o: object) => ({ type: 'jsonPatch', op: 'add', ...o });
    await applyAll([
      component('source', foo('source', { key1: 'test-value1', key2: 'test-value2' })),
      component('sink', foo('sink')),
      {
        apiVersion: OAM,
        kind: 'ApplicationConfiguration',
        metadata: { name: 'example-appconfig', labels: { 'app-hash': 'v1' } },
        spec: {
          components: [
            {
              componentName: 'source',
              dataOutputs: [
                {
                  outputStore: {
                    ...store,
                    operations: [
                      op({ toFieldPath: 'data', value: '{}' }),
                      op({
                        toFieldPath: 'data.key1',
                        valueFrom: { fieldPath: 'spec.key1' },
                        conditions: [{ op: 'notEq', fieldPath: 'spec.key1', value: '' }],
                      }),
                      op({ toFieldPath: 'data.key2', valueFrom: { fieldPath: 'spec.key2' } }),
                    ],
                  },
                },
              ],
            },
            {
              componentName: 'sink',
              dataInputs: [
                {
                  inputStore: {
                    ...store,
                    operations: [
                      op({ toFieldPath: 'spec', value: '{}' }),
                      op({ toFieldPath: 'spec.key', value: '"{}"' }),
                      op({ toFieldPath: 'spec.key', toDataPath: 'key1', valueFrom: { fieldPath: 'data.key1' } }),
                      op({ toFieldPath: 'spec.key', toDataPath: 'key2', valueFrom: { fieldPath: 'data.key2' } }),
                    ],
                  },
                },
              ],
            },
          ],
        },
      },
    ] as KubeObject[]);
    const sink = await eventually(() => get('example.com/v1', 'Foo', 'sink'), {
      what: 'the sink created from the store',
      timeoutMs: 60_000,
    });
    assert.deepEqual(JSON.parse((sink.spec as { key: string }).key), { key1: 'test-value1', key2: 'test-value2' });
    const cm = (await get('v1', 'ConfigMap', 'store'))!;
    assert.deepEqual((cm as { data?: unknown }).data, { key1: 'test-value1', key2: 'test-value2' });
    assert.equal(
      cm.metadata.ownerReferences?.find((o) => o.controller)?.name,
      'example-appconfig',
      "the store is the AppConfig's",
    );
    await eventually(
      async () => ((await getApp('example-appconfig'))?.status?.dependency === undefined ? true : undefined),
      { what: 'no dependency left' },
    );
  });
});
