import assert from 'node:assert/strict';
import type { ApplicationConfiguration, Component, ComponentEntry } from '../apis/generated/core.oam.dev-v1alpha2.js';
import { builtinCatalog } from '../definitions/index.js';
import { staticComponents, type BoundApplication, type RenderInput } from '../render/index.js';
import { CueEngine } from '../cue/index.js';
import { fieldProvenance, originOf, type FieldSources } from './provenance.js';
import { renderApplication } from './render-application.js';
import { provenanceYaml } from './yaml.js';

const component = (
  name: string,
  workload: Record<string, unknown>,
  parameters?: Component['spec']['parameters'],
): Component => ({
  apiVersion: 'core.oam.dev/v1alpha2',
  kind: 'Component',
  metadata: { name },
  spec: { workload, ...(parameters ? { parameters } : {}) },
});
const appConfig = (components: ComponentEntry[]): ApplicationConfiguration => ({
  apiVersion: 'core.oam.dev/v1alpha2',
  kind: 'ApplicationConfiguration',
  metadata: { name: 'shop', namespace: 'prod' },
  spec: { components },
});

describe('fieldProvenance(renderApplication(...))', () => {
  let engine: CueEngine;
  const components = staticComponents([
    component('web', { type: 'webservice', properties: { image: 'nginx:1.27', port: 8080 } }),
    component('api', { type: 'webservice', properties: { image: 'api:1', port: 80 } }, [
      { name: 'tag', fieldPaths: ['properties.image'] },
    ]),
    component('raw', { apiVersion: 'v1', kind: 'ConfigMap', data: { a: '1' } }),
  ]);
  const run = async (
    entries: ComponentEntry[],
    maxProbes?: number,
  ): Promise<{ app: BoundApplication; sources: FieldSources[] }> => {
    const input: RenderInput = { appConfig: appConfig(entries), components, definitions: builtinCatalog(), engine };
    const app = await renderApplication(input);
    return { app, sources: await fieldProvenance(input, app, maxProbes === undefined ? {} : { maxProbes }) };
  };
  const of = (r: { app: BoundApplication; sources: FieldSources[] }, kind: string) =>
    r.sources[r.app.objects.findIndex((o) => o.object.kind === kind)]!;
  before(() => {
    engine = new CueEngine();
  });
  after(() => engine.stop());

  it('names the component parameter, the trait parameter, Trellis labels and the template', async () => {
    const r = await run([
      {
        componentName: 'web',
        traits: [
          { trait: { name: 'scaler', properties: { replicas: 3 } } },
          { trait: { name: 'ingress', properties: { host: 'shop.example.com' } } },
        ],
      },
    ]);
    const deployment = of(r, 'Deployment');
    assert.equal(
      originOf(deployment, 'spec.template.spec.containers[0].image'),
      'parameter "image" of component "web" (WorkloadDefinition/webservice)',
    );
    assert.equal(
      originOf(deployment, 'spec.replicas'),
      'parameter "replicas" of trait "web-scaler" (TraitDefinition/scaler)',
    );
    assert.equal(originOf(deployment, 'metadata.labels.app.oam.dev/component'), 'Trellis (label)');
    assert.equal(originOf(deployment, 'spec.selector'), 'template of WorkloadDefinition/webservice (component "web")');
    assert.equal(
      originOf(of(r, 'Ingress'), 'spec.rules[0].host'),
      'parameter "host" of trait "web-ingress" (TraitDefinition/ingress)',
    );
    assert.equal(
      originOf(of(r, 'Service'), 'spec.ports[0].port'),
      'parameter "port" of component "web" (WorkloadDefinition/webservice)',
    );
  });

  it('names the trait whose patch set a field when its parameters are not probed (maxProbes: 0)', async () => {
    const r = await run(
      [{ componentName: 'web', traits: [{ trait: { name: 'scaler', properties: { replicas: 3 } } }] }],
      0,
    );
    assert.equal(originOf(of(r, 'Deployment'), 'spec.replicas'), 'trait "web-scaler" patch (TraitDefinition/scaler)');
    assert.equal(
      originOf(of(r, 'Deployment'), 'spec.template.spec.containers[0].image'),
      'template of WorkloadDefinition/webservice (component "web")',
    );
  });

  it('names an AppConfig parameterValue over the Component property it overrides', async () => {
    const r = await run([{ componentName: 'api', parameterValues: [{ name: 'tag', value: 'api:2' }] }]);
    assert.equal(
      originOf(of(r, 'Deployment'), 'spec.template.spec.containers[0].image'),
      'parameterValue "tag" of ApplicationConfiguration/prod/shop (component "api")',
    );
  });

  it('provenanceYaml comments each field that did not come from the template the header names', async () => {
    const r = await run([
      { componentName: 'web', traits: [{ trait: { name: 'scaler', properties: { replicas: 3 } } }] },
    ]);
    const yaml = provenanceYaml(r.app.objects, r.sources);
    assert.match(
      yaml,
      /^# component "web" \(WorkloadDefinition\/webservice\)\n# fields without a comment: template of WorkloadDefinition\/webservice \(component "web"\)\napiVersion: apps\/v1\n/,
    );
    assert.match(yaml, /\n {2}replicas: 3 # parameter "replicas" of trait "web-scaler" \(TraitDefinition\/scaler\)\n/);
    assert.match(
      yaml,
      /\n {8}- image: nginx:1\.27 # parameter "image" of component "web" \(WorkloadDefinition\/webservice\)\n/,
    );
    assert.match(yaml, /\n {4}app\.oam\.dev\/component: web # Trellis \(label\)\n/);
    assert.match(yaml, /\n {4}matchLabels:\n {6}app\.oam\.dev\/component: web\n/); // the template's: no comment
  });

  it('says an object written in full came from the Component as written', async () => {
    const r = await run([{ componentName: 'raw' }]);
    assert.equal(originOf(of(r, 'ConfigMap'), 'data.a'), 'component "raw" as written');
  });
});
