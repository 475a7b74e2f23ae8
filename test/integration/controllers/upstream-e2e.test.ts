/**
 * The upstream OAM runtime's own end-to-end scenarios (crossplane/oam-kubernetes-runtime,
 * test/e2e-test/: traits conflict, finalizer, dependency, component version) with their inputs,
 * re-told against the real API server with the controllers running as the chart's ServiceAccount —
 * one test per cause that made them fail on Trellis (issue 19).
 */
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import type { ApplicationConfiguration, HealthScope } from '../../../controllers/types.js';
import type { KubeObject } from '../../../kube/index.js';
import { testCluster, waitForEstablished } from '../../support/cluster.js';
import { conformanceFile, conformanceObjects, upgradeV1beta1Crd } from '../../support/conformance.js';
import { useControllers, waitUntilControllerMay } from '../../support/controllers.js';
import { kubectl } from '../../support/kubectl.js';
import { eventually, useNamespace } from '../../support/namespace.js';
import { startTestWebhook, type TestWebhook } from '../../support/webhook.js';

const OAM = 'core.oam.dev/v1alpha2';
const yaml = (...docs: object[]) => docs.map((d) => stringify(d)).join('---\n');

/** traits_conflict_test.go: three TraitDefinitions found only by the trait's `trait.oam.dev/type` label (their kinds are not served). */
const conflictDefinitions = ['trait1', 'trait2', 'trait3'].map((t) => ({
  apiVersion: OAM,
  kind: 'TraitDefinition',
  metadata: { name: `${t}.core.oam.dev` },
  spec: {
    definitionRef: { name: `${t}.core.oam.dev` },
    workloadRefPath: 'spec.workloadRef',
    ...(t === 'trait2' ? { conflictsWith: ['trait1.core.oam.dev'] } : {}),
  },
}));
const conflictTrait = (n: number) => ({
  trait: {
    apiVersion: OAM,
    kind: `Trait${n}`,
    metadata: { labels: { 'trait.oam.dev/type': `trait${n}.core.oam.dev` } },
  },
});
const conflictComponent = (namespace: string) => ({
  apiVersion: OAM,
  kind: 'Component',
  metadata: { name: 'conflict', namespace },
  spec: {
    workload: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      spec: {
        selector: { matchLabels: { app: 'nginx' } },
        template: {
          metadata: { labels: { app: 'nginx' } },
          spec: { containers: [{ name: 'nginx', image: 'nginx:1.9.4' }] },
        },
      },
    },
  },
});
const conflictApp = (namespace: string, traits: number[]) => ({
  apiVersion: OAM,
  kind: 'ApplicationConfiguration',
  metadata: { name: 'conflict', namespace },
  spec: { components: [{ componentName: 'conflict', traits: traits.map(conflictTrait) }] },
});

async function applyAll(objects: KubeObject[]): Promise<void> {
  const { kube } = testCluster();
  for (const o of objects) {
    const obj = upgradeV1beta1Crd(o);
    await kube.apply(obj);
    if (obj.kind === 'CustomResourceDefinition') {
      await waitForEstablished(kube, obj.metadata.name!);
      kube.mapper.invalidate();
    }
  }
}

const getApp = (namespace: string, name: string) =>
  testCluster().kube.getOrNull<ApplicationConfiguration>({
    apiVersion: OAM,
    kind: 'ApplicationConfiguration',
    name,
    namespace,
  });
const condition = (a: ApplicationConfiguration | undefined, type: string) =>
  a?.status?.conditions?.find((c) => c.type === type);
const synced = (namespace: string, name: string) =>
  eventually(
    async () => {
      const a = await getApp(namespace, name);
      return a?.status?.observedGeneration === a?.metadata.generation && condition(a, 'Synced')?.status === 'True' && a;
    },
    { what: `${name} Synced`, timeoutMs: 60_000 },
  );

describe('upstream e2e scenarios (issue 19)', () => {
  describe('an AppConfig naming a kind the API server does not serve (traits_conflict_test.go)', () => {
    const ns = useNamespace('up');
    useControllers(ns);

    it('ends in Synced=False naming the kind and the field, with an Event, and applies everything else', async () => {
      const { kube } = testCluster();
      await applyAll([...conflictDefinitions, conflictComponent(ns.name), conflictApp(ns.name, [1])] as KubeObject[]);
      const app = await eventually(
        async () => {
          const a = await getApp(ns.name, 'conflict');
          return condition(a, 'Synced')?.status === 'False' && a;
        },
        { what: 'a Synced condition (the reconcile must not hang on the unserved kind)', timeoutMs: 60_000 },
      );
      const sync = condition(app, 'Synced')!;
      assert.equal(sync.reason, 'ReconcileError');
      assert.equal(app.status?.syncReason, 'KindNotServed');
      assert.match(
        sync.message ?? '',
        /^\[TRL_APPLY_KIND_NOT_SERVED\] ApplicationConfiguration\/[^/]+\/conflict: spec\.components\[0\]\.traits\[0\]\.trait: the API server does not serve core\.oam\.dev\/v1alpha2 Trait1 /,
      );
      const deployment = await eventually(
        () => kube.getOrNull({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'conflict', namespace: ns.name }),
        { what: 'the workload applied all the same' },
      );
      assert.equal(deployment.metadata.ownerReferences?.[0]?.name, 'conflict');
      const status = await eventually(
        async () =>
          (await getApp(ns.name, 'conflict'))?.status?.workloads?.length ? getApp(ns.name, 'conflict') : undefined,
        { what: 'status.workloads' },
      );
      assert.deepEqual(status!.status?.workloads?.[0]?.workloadRef, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'conflict',
      });
      const events = await eventually(
        async () => {
          const list = (await kube.list('events.k8s.io/v1', 'Event', { namespace: ns.name })).items.filter(
            (e) => e.reason === 'KindNotServed',
          );
          return list.length > 0 && list;
        },
        { what: 'a KindNotServed Event' },
      );
      assert.match(String(events[0]!.note), /Trait1/);
    });

    it('20 AppConfigs naming unserved kinds, applied at once, leave an ordinary AppConfig to become Synced; each of the 20 names its kind', async () => {
      const { kube } = testCluster();
      // Each its own Component (a ConfigMap workload): an object two AppConfigs render is one's, not both's.
      const configMap = (name: string) => ({
        apiVersion: OAM,
        kind: 'Component',
        metadata: { name, namespace: ns.name },
        spec: { workload: { apiVersion: 'v1', kind: 'ConfigMap', data: { app: name } } },
      });
      await applyAll([
        conflictComponent(ns.name),
        ...Array.from({ length: 20 }, (_, i) => configMap(`c-${i}`)),
      ] as KubeObject[]);
      const broken = Array.from({ length: 20 }, (_, i) => ({
        apiVersion: OAM,
        kind: 'ApplicationConfiguration',
        metadata: { name: `unserved-${i}`, namespace: ns.name },
        spec: {
          components: [
            {
              componentName: `c-${i}`,
              traits: [
                {
                  trait: {
                    apiVersion: 'nowhere.example.com/v1',
                    kind: `Missing${i}`,
                    metadata: { name: `missing-${i}` },
                  },
                },
              ],
            },
          ],
        },
      }));
      await Promise.all(broken.map((b) => kube.apply(b)));
      await kube.apply({
        apiVersion: OAM,
        kind: 'ApplicationConfiguration',
        metadata: { name: 'ordinary', namespace: ns.name },
        spec: { components: [{ componentName: 'conflict' }] },
      });
      await synced(ns.name, 'ordinary');
      for (let i = 0; i < 20; i++) {
        const a = await eventually(
          async () => {
            const x = await getApp(ns.name, `unserved-${i}`);
            return condition(x, 'Synced')?.status === 'False' && x;
          },
          { what: `unserved-${i} Synced=False` },
        );
        assert.match(
          condition(a, 'Synced')?.message ?? '',
          new RegExp(`does not serve nowhere\\.example\\.com/v1 Missing${i} `),
        );
      }
    });

    it('a CRD installed later wakes the AppConfigs waiting for its kind: they converge without waiting for the periodic look', async () => {
      const { kube } = testCluster();
      const group = `later-${ns.name}.example.com`;
      const crdName = `widgets.${group}`;
      const widget = (name: string) => ({
        apiVersion: OAM,
        kind: 'ApplicationConfiguration',
        metadata: { name, namespace: ns.name },
        spec: {
          components: [
            {
              componentName: name,
              traits: [{ trait: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name } } }],
            },
          ],
        },
      });
      const names = ['waits-1', 'waits-2'];
      await applyAll([
        ...names.map((name) => ({
          apiVersion: OAM,
          kind: 'Component',
          metadata: { name, namespace: ns.name },
          spec: { workload: { apiVersion: 'v1', kind: 'ConfigMap', data: { app: name } } },
        })),
        ...names.map(widget),
      ] as KubeObject[]);
      for (const name of names)
        await eventually(async () => (await getApp(ns.name, name))?.status?.syncReason === 'KindNotServed', {
          what: `${name} KindNotServed`,
        });
      const role = {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: `upstream-e2e-${group}`, labels: { 'rbac.oam.dev/aggregate-to-controller': 'true' } },
        rules: [{ apiGroups: [group], resources: ['widgets'], verbs: ['*'] }],
      };
      try {
        // Access first (as an operator grants it), so the wake-up applies at once.
        await applyAll([role] as KubeObject[]);
        await waitUntilControllerMay(group, 'widgets');
        await applyAll([
          {
            apiVersion: 'apiextensions.k8s.io/v1',
            kind: 'CustomResourceDefinition',
            metadata: { name: crdName },
            spec: {
              group,
              scope: 'Namespaced',
              names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
              versions: [
                {
                  name: 'v1',
                  served: true,
                  storage: true,
                  schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
                },
              ],
            },
          },
        ] as KubeObject[]);
        // Well before the next periodic look (UNSERVED_RECHECK_MS, 60 s after the last): only the CRD's
        // arrival can have woken them.
        for (const name of names) {
          await eventually(
            async () => {
              const a = await getApp(ns.name, name);
              return (
                a?.status?.observedGeneration === a?.metadata.generation && condition(a, 'Synced')?.status === 'True'
              );
            },
            { what: `${name} Synced once its kind is served`, timeoutMs: 30_000 },
          );
          const made = await kube.getOrNull({ apiVersion: `${group}/v1`, kind: 'Widget', name, namespace: ns.name });
          assert.equal(
            made?.metadata.ownerReferences?.[0]?.name,
            name,
            'the trait object is applied, owned by its AppConfig',
          );
        }
      } finally {
        // The AppConfigs first: one still reconciling while its kind and access go would re-create
        // a Widget the CRD's deletion removed, refused once the role is gone (the suite fails on a 403).
        for (const name of names)
          await kube.delete({ apiVersion: OAM, kind: 'ApplicationConfiguration', name, namespace: ns.name });
        for (const name of names)
          await eventually(async () => !(await getApp(ns.name, name)), { what: `${name} gone` });
        await kube.delete({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: crdName });
        await kube.delete({ apiVersion: role.apiVersion, kind: role.kind, name: role.metadata.name });
      }
    });
  });

  describe('conflictsWith of definitions found by trait.oam.dev/type (traits_conflict_test.go, at admission)', () => {
    const ns = useNamespace('up');
    let webhook: TestWebhook;
    before(async () => {
      webhook = await startTestWebhook(testCluster().kube);
    });
    after(async () => {
      await webhook?.stop();
    });

    it('refuses conflicting traits on create, and on update of an admitted AppConfig', async () => {
      await applyAll([...conflictDefinitions, conflictComponent(ns.name)] as KubeObject[]);
      const all = await kubectl(['apply', '-f', '-'], { input: yaml(conflictApp(ns.name, [1, 2, 3])) });
      assert.equal(all.code, 1, all.stdout);
      assert.match(
        all.stderr,
        /TRL_BIND_TRAIT_CONFLICT.*TraitDefinition\/trait2\.core\.oam\.dev lists "trait1\.core\.oam\.dev" in conflictsWith/,
      );
      const one = await kubectl(['apply', '-f', '-'], { input: yaml(conflictApp(ns.name, [1])) });
      assert.equal(one.code, 0, one.stderr);
      const update = await kubectl(['apply', '-f', '-'], { input: yaml(conflictApp(ns.name, [1, 2, 3])) });
      assert.equal(update.code, 1, update.stdout);
      assert.match(update.stderr, /TRL_BIND_TRAIT_CONFLICT/);
    });
  });

  describe('an AppConfig in a HealthScope made with kubectl (appconfig_finalizer_test.go, conformance 01-03)', () => {
    const ns = useNamespace('up');
    useControllers(ns);
    const chart = [
      '14a-chart-workloaddefinition-containerizedworkload.yaml',
      '14b-chart-traitdefinition-manualscaler.yaml',
      '14c-chart-scopedefinition-healthscope.yaml',
    ];

    async function kubectlApplyAppInScope(namespace: string): Promise<void> {
      await applyAll(conformanceObjects(chart).map((d) => d.object));
      for (const file of [
        '03-healthscope-instance.yaml',
        '01-containerized-workload-component.yaml',
        '02-containerized-workload-appconfig.yaml',
      ]) {
        const r = await kubectl(['apply', '-n', namespace, '-f', conformanceFile(file)]);
        assert.equal(r.code, 0, r.stderr);
      }
      await synced(namespace, 'example-appconfig');
      await eventually(async () => ((await scope(namespace))?.spec?.workloadRefs?.length === 1 ? true : undefined), {
        what: 'the workload in the scope',
      });
    }
    const scope = (namespace: string) =>
      testCluster().kube.getOrNull<HealthScope>({
        apiVersion: OAM,
        kind: 'HealthScope',
        name: 'example-health-scope',
        namespace,
      });

    it('deletes the AppConfig cleanly (its workload leaves the scope), and then the namespace', async () => {
      const { kube } = testCluster();
      await kubectlApplyAppInScope(ns.name);
      const del = await kubectl(['delete', 'appconfig', 'example-appconfig', '-n', ns.name, '--timeout=60s']);
      assert.equal(del.code, 0, del.stderr);
      assert.equal(await getApp(ns.name, 'example-appconfig'), undefined);
      assert.deepEqual((await scope(ns.name))?.spec?.workloadRefs ?? [], []);
      await kube.delete({ apiVersion: 'v1', kind: 'Namespace', name: ns.name });
      await eventually(async () => !(await kube.getOrNull({ apiVersion: 'v1', kind: 'Namespace', name: ns.name })), {
        what: 'the namespace gone',
        timeoutMs: 90_000,
      });
    });

    it('deleting the namespace takes the AppConfig and the scope with it', async () => {
      const { kube } = testCluster();
      await kubectlApplyAppInScope(ns.name);
      await kube.delete({ apiVersion: 'v1', kind: 'Namespace', name: ns.name });
      await eventually(async () => !(await kube.getOrNull({ apiVersion: 'v1', kind: 'Namespace', name: ns.name })), {
        what: 'the namespace gone',
        timeoutMs: 90_000,
      });
    });
  });
  describe('a trait producing data for its own component\'s workload (appconfig_dependency_test.go "component depends on trait")', () => {
    const ns = useNamespace('up');
    useControllers(ns);
    const foo = (name: string) => ({ apiVersion: 'example.com/v1', kind: 'Foo', metadata: { name } });

    it('creates the producer trait, holds back only the workload, and releases it with the value', async () => {
      const { kube } = testCluster();
      // 04's CRD and definitions, and 05's ClusterRole granting the controller Foo (aggregated, as upstream's).
      await applyAll(
        conformanceObjects(['04-dependency-definitions.yaml', '05-dependency-dataoutput-datainput.yaml'])
          .map((d) => d.object)
          .filter((o) => o.kind !== 'Component' && o.kind !== 'ApplicationConfiguration'),
      );
      await waitUntilControllerMay('example.com', 'foo');
      await applyAll([
        {
          apiVersion: OAM,
          kind: 'Component',
          metadata: { name: 'component-in', namespace: ns.name },
          spec: { workload: foo('data-input') },
        },
        {
          apiVersion: OAM,
          kind: 'ApplicationConfiguration',
          metadata: { name: 'appconfig-trait-comp', namespace: ns.name },
          spec: {
            components: [
              {
                componentName: 'component-in',
                dataInputs: [{ valueFrom: { dataOutputName: 'trait-comp' }, toFieldPaths: ['spec.key'] }],
                traits: [{ trait: foo('data-output'), dataOutputs: [{ name: 'trait-comp', fieldPath: 'status.key' }] }],
              },
            ],
          },
        },
      ] as KubeObject[]);
      const fooObj = (name: string) => kube.getOrNull({ ...foo(name), name, namespace: ns.name });
      const out = await eventually(() => fooObj('data-output'), {
        what: 'the producer trait created while its workload waits',
      });
      const waiting = await eventually(
        async () => {
          const a = await getApp(ns.name, 'appconfig-trait-comp');
          return a?.status?.dependency?.unsatisfied?.[0]?.reason === 'status.key is not set yet' && a;
        },
        { what: 'the dependency reported' },
      );
      assert.deepEqual(waiting.status?.dependency?.unsatisfied, [
        {
          reason: 'status.key is not set yet',
          from: { apiVersion: 'example.com/v1', kind: 'Foo', name: 'data-output', fieldPath: 'status.key' },
          to: { apiVersion: 'example.com/v1', kind: 'Foo', name: 'data-input', fieldPaths: ['spec.key'] },
        },
      ]);
      assert.equal(await fooObj('data-input'), undefined, 'the consumer is not created yet');
      await kube.patch(
        { ...foo('data-output'), name: 'data-output', namespace: ns.name },
        { status: { key: 'test' } },
        'merge',
        'status',
      );
      const input = await eventually(() => fooObj('data-input'), { what: 'the consumer created with the value' });
      assert.equal((input.spec as { key?: string }).key, 'test');
      await eventually(
        async () =>
          (await getApp(ns.name, 'appconfig-trait-comp'))?.status?.dependency === undefined ? true : undefined,
        { what: 'dependency satisfied' },
      );
      assert.ok(out.metadata.uid);
    });
  });

  describe('a field the CRD does not declare (component_version_test.go: trait Bar with spec.foo, CRD declaring only spec.key)', () => {
    const ns = useNamespace('up');
    useControllers(ns);
    const barCrd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'bars.example.com' },
      spec: {
        group: 'example.com',
        names: { kind: 'Bar', listKind: 'BarList', plural: 'bars', singular: 'bar' },
        scope: 'Namespaced',
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: { spec: { type: 'object', properties: { key: { type: 'string' } } } },
              },
            },
          },
        ],
      },
    };
    const definitions = [
      // Access for the controller, aggregated into its role the way upstream's examples grant it (rbac.oam.dev/aggregate-to-controller).
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'upstream-e2e-bars', labels: { 'rbac.oam.dev/aggregate-to-controller': 'true' } },
        rules: [{ apiGroups: ['example.com'], resources: ['bars'], verbs: ['*'] }],
      },
      {
        apiVersion: OAM,
        kind: 'WorkloadDefinition',
        metadata: { name: 'bars.example.com' },
        spec: { definitionRef: { name: 'bars.example.com' } },
      },
      {
        apiVersion: OAM,
        kind: 'TraitDefinition',
        metadata: { name: 'bars.example.com' },
        spec: { definitionRef: { name: 'bars.example.com' } },
      },
    ];
    const component = (key: unknown) => ({
      apiVersion: OAM,
      kind: 'Component',
      metadata: { name: 'example-component', namespace: ns.name },
      spec: { workload: { apiVersion: 'example.com/v1', kind: 'Bar', spec: { key } } },
    });
    const app = (traitSpec: object) => ({
      apiVersion: OAM,
      kind: 'ApplicationConfiguration',
      metadata: { name: 'example-appconfig', namespace: ns.name },
      spec: {
        components: [
          {
            componentName: 'example-component',
            traits: [{ trait: { apiVersion: 'example.com/v1', kind: 'Bar', spec: traitSpec } }],
          },
        ],
      },
    });
    const bar = (name: string) =>
      testCluster().kube.getOrNull({ apiVersion: 'example.com/v1', kind: 'Bar', name, namespace: ns.name });

    it('prunes it as the API server would, says so in the Synced message, and applies the object', async () => {
      await applyAll([barCrd, ...definitions] as KubeObject[]);
      await waitUntilControllerMay('example.com', 'bars');
      await applyAll([component('v1'), app({ foo: 'bar' })] as KubeObject[]);
      const a = await synced(ns.name, 'example-appconfig');
      const traitName = a.status?.workloads?.[0]?.traits?.[0]?.traitRef?.name;
      assert.ok(traitName, JSON.stringify(a.status));
      const trait = (await bar(traitName))!;
      assert.deepEqual(trait.spec ?? {}, {}, 'spec.foo pruned');
      assert.match(
        condition(a, 'Synced')?.message ?? '',
        new RegExp(`Bar/${traitName}: dropped spec\\.foo \\(not declared by its schema\\)`),
      );
      assert.equal(
        (await bar('example-component'))?.spec && ((await bar('example-component'))!.spec as { key: string }).key,
        'v1',
      );
    });

    it('after an apply the API server refuses, status keeps the workloads that exist and names the refused object', async () => {
      await applyAll([barCrd, ...definitions] as KubeObject[]);
      await waitUntilControllerMay('example.com', 'bars');
      await applyAll([component('v1'), app({ key: 42 })] as KubeObject[]);
      const a = await eventually(
        async () => {
          const x = await getApp(ns.name, 'example-appconfig');
          return condition(x, 'Synced')?.status === 'False' && !!x?.status?.workloads?.length && x;
        },
        { what: 'Synced=False with workloads in status', timeoutMs: 60_000 },
      );
      assert.equal(a.status?.syncReason, 'ApplyFailed');
      assert.match(
        condition(a, 'Synced')?.message ?? '',
        /\[TRL_APPLY_REJECTED\] Bar\/[^/]+\/example-component-bars: .*spec\.key/,
      );
      assert.deepEqual(
        a.status?.workloads?.map((w) => w.workloadRef),
        [{ apiVersion: 'example.com/v1', kind: 'Bar', name: 'example-component' }],
      );
      assert.ok(await bar('example-component'), 'the workload exists');
    });
  });
});
