import assert from 'node:assert/strict';
import type { ApplicationConfiguration, Component } from '../apis/generated/core.oam.dev-v1alpha2.js';
import { renderApplication } from '../application/index.js';
import { builtinCatalog, layeredSource, StaticDefinitionSource } from '../definitions/index.js';
import type { KubeObject } from '../kube/types.js';
import { staticComponents } from '../render/index.js';
import { CueEngine } from '../cue/index.js';
import { cachedParameterSchemas } from './parameter-schemas.js';
import { quickAdmission } from './quick-admission.js';
import { checkAppConfigRenders } from './render-check.js';
import { cachedTemplateFacts } from './template-facts.js';

const component = (name: string, workload: Record<string, unknown>): Component => ({
  apiVersion: 'core.oam.dev/v1alpha2',
  kind: 'Component',
  metadata: { name, namespace: 'shop' },
  spec: { workload },
});
const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  spec: {
    selector: { matchLabels: { app: 'db' } },
    template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'postgres:16' }] } },
  },
};
const components = staticComponents([
  component('web', { type: 'webservice', properties: { image: 'nginx:1.27', port: 8080 } }),
  component('db', deployment),
  component('settings', { apiVersion: 'v1', kind: 'ConfigMap', data: { a: 'b' } }),
  component('typo', { type: 'typo-worker', properties: {} }),
  component('flip', { type: 'flip-worker', properties: { s: true } }),
]);
const appConfig = (entries: object[]): ApplicationConfiguration =>
  ({
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'ApplicationConfiguration',
    metadata: { name: 'shop', namespace: 'shop' },
    spec: { components: entries },
  }) as ApplicationConfiguration;
const trait = (name: string, properties: object = {}) => ({ trait: { name, properties } });

/** A workload whose template refers to a parameter field that does not exist: only a render finds out. */
const typoWorker: KubeObject = {
  apiVersion: 'core.oam.dev/v1alpha2',
  kind: 'WorkloadDefinition',
  metadata: { name: 'typo-worker' },
  spec: {
    schematic: {
      cue: {
        template:
          'parameter: { replicas: *1 | int }\noutput: { apiVersion: "apps/v1", kind: "Deployment", spec: replicas: parameter.replicaz }\n',
      },
    },
  },
};
/** A workload whose kind a property may contradict: CUE reports a conflict, the kind alone looks fixed. */
const FLIP_TEMPLATE =
  'parameter: { s: *false | bool }\noutput: { apiVersion: "apps/v1", kind: "Deployment" }\nif parameter.s { output: kind: "StatefulSet" }\n';
const flipWorker: KubeObject = {
  apiVersion: 'core.oam.dev/v1alpha2',
  kind: 'WorkloadDefinition',
  metadata: { name: 'flip-worker' },
  spec: { schematic: { cue: { template: FLIP_TEMPLATE } } },
};
const definitions = layeredSource(new StaticDefinitionSource({ objects: [typoWorker, flipWorker] }), builtinCatalog());

describe('webhooks: admission without CUE (quick-admission.ts)', function () {
  this.timeout(120000);
  const engine = new CueEngine({ workers: 1 });
  after(() => engine.stop());
  const facts = cachedTemplateFacts(cachedParameterSchemas(engine));
  const input = (entries: object[]) => ({ appConfig: appConfig(entries), components, definitions, engine, facts });
  const typical = (replicas: unknown) => [
    { componentName: 'web', traits: [trait('scaler', { replicas })] },
    { componentName: 'db', traits: [trait('manualscalertraits.core.oam.dev', { replicaCount: 1 })] },
  ];

  it('renders an AppConfig the first time its templates are met, then admits edits of it without running CUE', async () => {
    const first = await quickAdmission(input(typical(2)));
    assert.equal(first.admit, false);
    assert.equal(!first.admit && first.unsure, 'the template has not rendered here yet');
    await checkAppConfigRenders(input(typical(2)));
    assert.deepEqual(await quickAdmission(input(typical(5))), { admit: true });
    const evaluated = engine.stats.evaluated;
    const invocations = engine.stats.invocations;
    await checkAppConfigRenders(input(typical(7)));
    assert.equal(engine.stats.evaluated, evaluated, 'no CUE evaluation for the edit');
    assert.equal(engine.stats.invocations, invocations);
    await renderApplication(input(typical(7))); // and what was admitted renders
  });

  it('leaves every denial to the render, which gives it its message', async () => {
    await checkAppConfigRenders(input(typical(2)));
    facts.rendered([FLIP_TEMPLATE]); // as if it had rendered with s: false
    const cases: { entries: object[]; unsure?: RegExp; code: string }[] = [
      { entries: typical('three'), unsure: /do not match the schema/, code: 'TRL_RENDER_PARAMETER' },
      {
        entries: [{ componentName: 'web', traits: [trait('scaler', { replicas: 2, replics: 3 })] }],
        unsure: /unknown properties/,
        code: 'TRL_RENDER_PARAMETER',
      },
      {
        entries: [{ componentName: 'settings', traits: [trait('scaler', { replicas: 2 })] }],
        unsure: /sets spec\.replicas/,
        code: 'TRL_BIND_NOT_APPLICABLE',
      },
      {
        entries: [{ componentName: 'web' }, { componentName: 'web' }],
        unsure: /two objects apps\/Deployment\/web/,
        code: 'TRL_BIND_NAME_COLLISION',
      },
      { entries: [{ componentName: 'typo' }], unsure: /has not rendered here yet/, code: 'TRL_RENDER_TEMPLATE' },
      {
        entries: [
          { componentName: 'web', traits: [trait('scaler', { replicas: 2 }), trait('autoscaler', { max: 4 })] },
        ],
        code: 'TRL_BIND_TRAIT_CONFLICT',
      },
      { entries: [{ componentName: 'flip' }], unsure: /output may be given another kind/, code: 'TRL_RENDER_TEMPLATE' },
      {
        entries: [{ componentName: 'web', parameterValues: [{ name: 'nope', value: 1 }] }],
        unsure: /the plan fails/,
        code: 'TRL_RENDER_PARAMETER_UNKNOWN',
      },
    ];
    for (const c of cases) {
      const verdict = await quickAdmission(input(c.entries));
      assert.equal(verdict.admit, false, JSON.stringify(c.entries));
      if (c.unsure) assert.match(!verdict.admit ? verdict.unsure : '', c.unsure);
      const direct = await renderApplication(input(c.entries)).then(
        () => undefined,
        (err: Error) => err,
      );
      assert.ok(direct, `render refuses ${JSON.stringify(c.entries)}`);
      await assert.rejects(
        checkAppConfigRenders(input(c.entries)),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, c.code, err.message);
          assert.equal(err.message, direct.message, 'the same denial as rendering gives');
          return true;
        },
        `denied: ${JSON.stringify(c.entries)}`,
      );
    }
  });

  it('admits nothing that does not render (built-in templates, every trait on every workload)', async () => {
    const catalog = builtinCatalog();
    const templates = await Promise.all(
      [
        'webservice',
        'scaler',
        'labels',
        'annotations',
        'env',
        'sidecar',
        'autoscaler',
        'expose',
        'ingress',
        'storage',
      ].map(async (n) => {
        const d = (await catalog.workloadDefinition(n)) ?? (await catalog.traitDefinition(n));
        return d!.spec!.schematic!.cue!.template!;
      }),
    );
    facts.rendered(templates); // built-ins render (definitions/ tests them): the other facts decide
    const traits = [
      trait('scaler', { replicas: 3 }),
      trait('labels', { team: 'shop' }),
      trait('annotations', { a: 'b' }),
      trait('env', { env: { A: '1' } }),
      trait('autoscaler', { max: 4 }),
      trait('expose', { port: [80] }),
      trait('manualscalertraits.core.oam.dev', { replicaCount: 2 }),
      trait('sidecar', { name: 'log', image: 'busybox' }),
    ];
    const cases = ['web', 'db', 'settings'].flatMap((componentName) =>
      [[], ...traits.map((t) => [t]), [traits[0], traits[5]]].map((ts) => [{ componentName, traits: ts }]),
    );
    const outcomes = await Promise.all(
      cases.map(async (entries) => ({
        entries,
        verdict: await quickAdmission(input(entries)),
        rendered: await renderApplication(input(entries)).then(
          () => true,
          () => false,
        ),
      })),
    );
    for (const o of outcomes)
      if (o.verdict.admit)
        assert.ok(o.rendered, `admitted without CUE but does not render: ${JSON.stringify(o.entries)}`);
    const admitted = outcomes.filter((o) => o.verdict.admit).length;
    assert.ok(admitted >= 8, `the common cases are settled without CUE (${admitted} of ${cases.length})`);
  });
});
