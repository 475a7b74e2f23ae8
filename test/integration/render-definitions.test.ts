import assert from 'node:assert/strict';
import path from 'node:path';
import { exampleDirs, exampleInputs } from '../../application/golden.js';
import { renderObjects } from '../../application/offline.js';
import { renderApplication } from '../../application/index.js';
import { packageRoot } from '../../controlplane/index.js';
import { ClusterDefinitionSource, readCatalog } from '../../definitions/index.js';
import type { KubeObject } from '../../kube/index.js';
import { staticComponents } from '../../render/index.js';
import { CueEngine } from '../../cue/index.js';
import type { ApplicationConfiguration, Component } from '../../apis/generated/core.oam.dev-v1alpha2.js';
import { renderChart } from '../support/chart.js';
import { testCluster } from '../support/cluster.js';
import { useNamespace } from '../support/namespace.js';

const examples = path.join(packageRoot(), 'examples');

describe('built-in definitions in a real cluster', () => {
  const ns = useNamespace('defs');
  let engine: CueEngine;
  let installed: KubeObject[];
  before(async () => {
    engine = new CueEngine();
    const { kube, helm } = testCluster();
    // The chart's built-in definitions, applied as the chart would (left installed: they are the chart's defaults).
    installed = (await renderChart(helm)).filter(
      (o) => o.kind === 'WorkloadDefinition' || o.kind === 'TraitDefinition',
    );
    for (const def of installed) await kube.apply(def);
  });
  after(() => engine.stop());

  it('the chart installs every catalog definition (and none with definitions.install=false)', async () => {
    assert.deepEqual(
      installed.map((d) => `${d.kind}/${d.metadata.name}`).sort(),
      readCatalog()
        .map((d) => `${d.kind}/${d.metadata.name}`)
        .sort(),
    );
    assert.ok(installed.every((d) => d.metadata.labels?.['app.kubernetes.io/part-of'] === 'trellis'));
    const off = (await renderChart(testCluster().helm, { 'definitions.install': false })).filter(
      (o) => o.kind === 'WorkloadDefinition' || o.kind === 'TraitDefinition',
    );
    assert.deepEqual(off, []);
  });

  it('ClusterDefinitionSource resolves definitions, CRDs and built-in kinds from the API server', async () => {
    const source = new ClusterDefinitionSource({ kube: testCluster().kube });
    assert.equal((await source.traitDefinition('scaler'))?.spec?.conflictsWith?.[0], 'autoscaler');
    assert.equal(await source.workloadDefinition('no-such-type'), undefined);
    assert.deepEqual(await source.resourceByName('containerizedworkloads.core.oam.dev'), {
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ContainerizedWorkload',
      name: 'containerizedworkloads.core.oam.dev',
      namespaced: true,
    });
    assert.deepEqual(await source.resourceByName('deployments.apps'), {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'deployments.apps',
      namespaced: true,
    });
    assert.deepEqual(await source.resourceByName('services'), {
      apiVersion: 'v1',
      kind: 'Service',
      name: 'services',
      namespaced: true,
    });
    assert.equal(await source.resourceByName('nothings.example.com'), undefined);
    assert.deepEqual(await source.resourceByKind('autoscaling/v2', 'HorizontalPodAutoscaler'), {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      name: 'horizontalpodautoscalers.autoscaling',
      namespaced: true,
    });
    assert.equal(await source.resourceByKind('example.com/v1', 'Nothing'), undefined);
  });

  it("renders the same objects from the cluster's definitions as from the catalog files", async () => {
    const definitions = new ClusterDefinitionSource({ kube: testCluster().kube });
    for (const dir of exampleDirs(examples)) {
      const objects = exampleInputs(dir);
      const offline = await renderObjects(objects, { engine });
      const components = objects.filter((o) => o.kind === 'Component') as unknown as Component[];
      for (const [i, appConfig] of objects.filter((o) => o.kind === 'ApplicationConfiguration').entries()) {
        const app = await renderApplication({
          appConfig: appConfig as unknown as ApplicationConfiguration,
          components: staticComponents(components),
          definitions,
          engine,
          namespace: offline[i].app.namespace,
        });
        assert.deepEqual(
          app.objects.map((o) => o.object),
          offline[i].app.objects.map((o) => o.object),
          path.basename(dir),
        );
      }
    }
  });

  it('every example renders to objects the API server accepts (server-side apply, dry run)', async () => {
    const { kube } = testCluster();
    for (const dir of exampleDirs(examples)) {
      const apps = await renderObjects(exampleInputs(dir), { engine, namespace: ns.name });
      for (const { object } of apps.flatMap((a) => a.app.objects)) {
        const target = { ...object, metadata: { ...object.metadata, namespace: ns.name } };
        await kube.apply(target, { dryRun: true }).catch((err: Error) => {
          throw new Error(`${path.basename(dir)}: ${object.kind}/${object.metadata.name} was rejected: ${err.message}`);
        });
      }
    }
  });

  it('a definition the cluster holds but the catalog does not is used by name', async () => {
    const { kube } = testCluster();
    const name = `${ns.name}-greeting`;
    const def = {
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'TraitDefinition',
      metadata: { name },
      spec: {
        schematic: {
          cue: {
            template:
              'parameter: text: string\noutputs: cm: {apiVersion: "v1", kind: "ConfigMap", data: greeting: parameter.text}\n',
          },
        },
      },
    };
    await kube.apply(def);
    try {
      const definitions = new ClusterDefinitionSource({ kube });
      const app = await renderApplication({
        appConfig: {
          apiVersion: 'core.oam.dev/v1alpha2',
          kind: 'ApplicationConfiguration',
          metadata: { name: 'hello', namespace: ns.name },
          spec: { components: [{ componentName: 'c', traits: [{ trait: { name, properties: { text: 'hi' } } }] }] },
        },
        components: staticComponents([
          {
            apiVersion: 'core.oam.dev/v1alpha2',
            kind: 'Component',
            metadata: { name: 'c' },
            spec: { workload: { apiVersion: 'v1', kind: 'ConfigMap', data: { a: '1' } } },
          },
        ]),
        definitions,
        engine,
      });
      const cm = app.objects.find((o) => o.source.output === 'cm')!.object;
      assert.deepEqual([cm.metadata.name, cm.data], [`c-${name}-cm`, { greeting: 'hi' }]);
    } finally {
      await kube.delete({ apiVersion: def.apiVersion, kind: def.kind, name });
    }
  });
});
