import assert from 'node:assert/strict';
import type { KubeObject } from '../../kube/types.js';
import type { AdmissionRequest } from '../admission.js';
import { StaticDefinitionSource } from '../../definitions/index.js';
import { staticComponents } from '../../render/index.js';
import { CueEngine } from '../../cue/index.js';
import { cachedParameterSchemas } from '../parameter-schemas.js';
import { cachedTemplateFacts } from '../template-facts.js';
import type { Component } from '../../apis/generated/core.oam.dev-v1alpha2.js';
import type { WebhookDeps } from './deps.js';
import { applyPatch } from '../json-patch.js';
import { mutateApplicationConfigurations } from './mutate-appconfig.js';
import { mutateComponents } from './mutate-component.js';
import { validateApplicationConfigurations } from './validate-appconfig.js';
import { validateComponents } from './validate-component.js';

const def = (kind: string, name: string, spec: object): KubeObject => ({
  apiVersion: 'core.oam.dev/v1alpha2',
  kind,
  metadata: { name },
  spec,
});
const crd = (name: string, group: string, kind: string): KubeObject => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name },
  spec: {
    group,
    names: { kind, plural: name.split('.')[0] },
    scope: 'Namespaced',
    versions: [{ name: 'v1', served: true, storage: true }],
  },
});
const WEB_TEMPLATE =
  'parameter: { image: string, replicas: *1 | int }\noutput: { apiVersion: "apps/v1", kind: "Deployment", spec: { replicas: parameter.replicas, template: spec: containers: [{ name: "main", image: parameter.image }] } }\n';

/** A parameter CUE cannot turn into a JSON Schema (its default reads context): TRL_CUE_SCHEMA. */
const CONTEXT_DEFAULT_TEMPLATE =
  'parameter: { name: *context.name | string }\noutput: { apiVersion: "v1", kind: "ConfigMap", metadata: name: parameter.name }\n';

/** Definitions held in memory (render/'s StaticDefinitionSource): the handlers' view of the cluster, without one. */
const engine = new CueEngine({ workers: 1 });
after(() => engine.stop());
const parameterSchema = cachedParameterSchemas(engine);
const deps: WebhookDeps = {
  engine,
  parameterSchema,
  templateFacts: cachedTemplateFacts(parameterSchema),
  components: () => staticComponents([]),
  definitions: new StaticDefinitionSource({
    objects: [
      def('WorkloadDefinition', 'web-service', { definitionRef: { name: 'containerizedworkloads.core.oam.dev' } }),
      def('WorkloadDefinition', 'webservice', { schematic: { cue: { template: WEB_TEMPLATE } } }),
      def('WorkloadDefinition', 'named-config', { schematic: { cue: { template: CONTEXT_DEFAULT_TEMPLATE } } }),
      def('WorkloadDefinition', 'dangling', { definitionRef: { name: 'gone.example.com' } }),
      def('TraitDefinition', 'footrait', { definitionRef: { name: 'foo.example.com' } }),
      def('TraitDefinition', 'ingress', {
        schematic: { cue: { template: 'parameter: { domain: string, port: *80 | int }\noutputs: {}\n' } },
      }),
      crd('foo.example.com', 'example.com', 'Foo'),
    ],
  }),
};

function req(kind: string, object: object, operation: AdmissionRequest['operation'] = 'CREATE'): AdmissionRequest {
  return {
    uid: 'u',
    kind: { group: 'core.oam.dev', version: 'v1alpha2', kind },
    resource: { group: 'core.oam.dev', version: 'v1alpha2', resource: `${kind.toLowerCase()}s` },
    name: 'web',
    namespace: 'shop',
    operation,
    object: object as KubeObject,
  };
}

const component = (workload: object) => ({
  apiVersion: 'core.oam.dev/v1alpha2',
  kind: 'Component',
  metadata: { name: 'web', namespace: 'shop' },
  spec: { workload },
});
const appConfig = (traits: object[]) => ({
  apiVersion: 'core.oam.dev/v1alpha2',
  kind: 'ApplicationConfiguration',
  metadata: { name: 'web', namespace: 'shop' },
  spec: { components: [{ componentName: 'web', traits: traits.map((trait) => ({ trait })) }] },
});

describe('webhooks: mutate-components', () => {
  const handler = mutateComponents(deps);

  it("expands type + spec into the definition's kind, labelling workload and Component", async () => {
    const input = component({ type: 'web-service', spec: { containers: [] } });
    const { patch } = await handler.handle(req('Component', input));
    assert.deepEqual(applyPatch(input, patch!), {
      ...input,
      metadata: { ...input.metadata, labels: { 'workload.oam.dev/type': 'web-service' } },
      spec: {
        workload: {
          apiVersion: 'core.oam.dev/v1alpha2',
          kind: 'ContainerizedWorkload',
          metadata: { labels: { 'workload.oam.dev/type': 'web-service' } },
          spec: { containers: [] },
        },
      },
    });
  });

  it('turns properties into spec, and leaves full objects alone', async () => {
    const input = component({ type: 'web-service', properties: { containers: [{ name: 'a' }] } });
    const { patch } = await handler.handle(req('Component', input));
    assert.deepEqual((applyPatch(input, patch!).spec.workload as { spec: unknown }).spec, {
      containers: [{ name: 'a' }],
    });
    assert.deepEqual(await handler.handle(req('Component', component({ apiVersion: 'v1', kind: 'ConfigMap' }))), {});
  });

  it('keeps the shorthand of a CUE-templated definition, filling in the parameter defaults and the label', async () => {
    const input = component({ type: 'webservice', properties: { image: 'nginx' } });
    const out = applyPatch(input, (await handler.handle(req('Component', input))).patch!);
    assert.deepEqual(out.spec.workload, { type: 'webservice', properties: { image: 'nginx', replicas: 1 } });
    assert.equal((out.metadata as { labels?: Record<string, string> }).labels?.['workload.oam.dev/type'], 'webservice');
  });

  it('rejects a missing definition, a definition whose kind is not served, and contradicting fields', async () => {
    await assert.rejects(handler.handle(req('Component', component({ type: 'nope' }))), {
      code: 'TRL_ADMISSION_DEFINITION_MISSING',
      field: 'spec.workload.type',
    });
    await assert.rejects(handler.handle(req('Component', component({ type: 'dangling' }))), {
      code: 'TRL_RENDER_UNKNOWN_KIND',
      message: /refers to "gone\.example\.com", which is neither a CRD nor a known kind/,
    });
    await assert.rejects(handler.handle(req('Component', component({ type: 'web-service', kind: 'Deployment' }))), {
      code: 'TRL_ADMISSION_SHORTHAND',
      field: 'spec.workload.kind',
    });
    await assert.rejects(
      handler.handle(req('Component', component({ type: 'web-service', spec: {}, properties: {} }))),
      { code: 'TRL_ADMISSION_SHORTHAND', field: 'spec.workload.properties' },
    );
  });
});

describe('webhooks: mutate-applicationconfigurations', () => {
  const handler = mutateApplicationConfigurations(deps);

  it("expands name + properties into the TraitDefinition's object with trait.oam.dev/type (upstream 11)", async () => {
    const input = appConfig([
      { name: 'footrait', properties: { key: 'trait' } },
      { apiVersion: 'core.oam.dev/v1alpha2', kind: 'ManualScalerTrait', spec: { replicaCount: 1 } },
    ]);
    const out = applyPatch(input, (await handler.handle(req('ApplicationConfiguration', input))).patch!);
    assert.deepEqual(out.spec.components[0]!.traits, [
      {
        trait: {
          apiVersion: 'example.com/v1',
          kind: 'Foo',
          metadata: { labels: { 'trait.oam.dev/type': 'footrait' } },
          spec: { key: 'trait' },
        },
      },
      { trait: { apiVersion: 'core.oam.dev/v1alpha2', kind: 'ManualScalerTrait', spec: { replicaCount: 1 } } },
    ]);
  });

  it('answers without a patch when nothing is shorthand; fills in defaults of a CUE-templated trait', async () => {
    assert.deepEqual(
      await handler.handle(req('ApplicationConfiguration', appConfig([{ apiVersion: 'v1', kind: 'Service' }]))),
      {},
    );
    const input = appConfig([{ name: 'ingress', properties: { domain: 'x' } }]);
    const out = applyPatch(input, (await handler.handle(req('ApplicationConfiguration', input))).patch!);
    assert.deepEqual(out.spec.components[0]!.traits, [
      { trait: { name: 'ingress', properties: { domain: 'x', port: 80 } } },
    ]);
  });

  it('names the trait whose definition is missing', async () => {
    await assert.rejects(
      handler.handle(
        req('ApplicationConfiguration', appConfig([{ apiVersion: 'v1', kind: 'Service' }, { name: 'nope' }])),
      ),
      {
        message:
          '[TRL_ADMISSION_DEFINITION_MISSING] ApplicationConfiguration/shop/web: spec.components[0].traits[1].trait.name: TraitDefinition "nope" does not exist; apply it first (`kubectl get traitdefinitions` lists the traits there are)',
      },
    );
  });
});

describe('webhooks: validate-components / validate-applicationconfigurations', () => {
  it('lists every problem of a Component in one denial', async () => {
    const input = {
      ...component({ spec: {} }),
      spec: {
        workload: { spec: {} },
        parameters: [
          { name: 'a', fieldPaths: [] },
          { name: 'a', fieldPaths: ['x'] },
        ],
      },
    };
    await assert.rejects(validateComponents(deps).handle(req('Component', input)), (err: Error) => {
      assert.match(
        err.message,
        /^\[TRL_ADMISSION_WORKLOAD\] Component\/shop\/web: 3 problems: \(1\) .*spec\.workload: needs apiVersion and kind.*\(2\) .*spec\.parameters\[0\]\.fieldPaths: .*\(3\) .*spec\.parameters\[1\]\.name: parameter "a" is declared twice/,
      );
      return true;
    });
  });

  it("checks the properties of a CUE-typed workload against the template's parameters", async () => {
    assert.deepEqual(
      await validateComponents(deps).handle(
        req('Component', component({ type: 'webservice', properties: { image: 'nginx' } })),
      ),
      {},
    );
    await assert.rejects(
      validateComponents(deps).handle(
        req('Component', component({ type: 'webservice', properties: { image: 'nginx', replicas: 'three' } })),
      ),
      {
        code: 'TRL_ADMISSION_PROPERTIES',
        field: 'spec.workload.properties.replicas',
        message: /expected integer/,
      },
    );
    await assert.rejects(
      validateComponents(deps).handle(req('Component', component({ type: 'webservice', properties: {} }))),
      { message: /parameter "image" of WorkloadDefinition "webservice" is required/ },
    );
    const supplied = {
      ...component({ type: 'webservice', properties: {} }),
      spec: {
        workload: { type: 'webservice', properties: {} },
        parameters: [{ name: 'image', fieldPaths: ['properties.image'] }],
      },
    };
    assert.deepEqual(
      await validateComponents(deps).handle(req('Component', supplied)),
      {},
      'an AppConfig supplies image',
    );
  });

  it('checks the properties of a workload whose parameter has no JSON Schema by rendering it', async () => {
    assert.deepEqual(
      await validateComponents(deps).handle(req('Component', component({ type: 'named-config', properties: {} }))),
      {},
    );
    assert.deepEqual(
      await validateComponents(deps).handle(
        req('Component', component({ type: 'named-config', properties: { name: 'settings' } })),
      ),
      {},
    );
    await assert.rejects(
      validateComponents(deps).handle(req('Component', component({ type: 'named-config', properties: { name: 7 } }))),
      (err: Error & { code?: string }) => {
        assert.match(
          err.message,
          /^\[TRL_RENDER_PARAMETER\] Component\/web: spec\.workload\.properties: .*parameter "name"/,
        );
        return true;
      },
    );
  });

  it('denies a shorthand the mutating webhook should have expanded, and a trait that is no object', async () => {
    await assert.rejects(validateComponents(deps).handle(req('Component', component({ type: 'web-service' }))), {
      code: 'TRL_ADMISSION_SHORTHAND',
      message: /is the mutating webhook registered\?/,
    });
    await assert.rejects(
      validateApplicationConfigurations(deps).handle(
        req('ApplicationConfiguration', appConfig([{ name: 'footrait' }])),
      ),
      { code: 'TRL_ADMISSION_SHORTHAND' },
    );
    await assert.rejects(
      validateApplicationConfigurations(deps).handle(req('ApplicationConfiguration', appConfig([{ spec: {} }]))),
      { code: 'TRL_ADMISSION_TRAIT', field: 'spec.components[0].traits[0].trait' },
    );
  });
});

describe('webhooks: validate-applicationconfigurations from watch caches', () => {
  const configMap = (parameters: object[]) =>
    ({
      ...component({ apiVersion: 'v1', kind: 'ConfigMap', data: { greeting: 'hello' } }),
      spec: { workload: { apiVersion: 'v1', kind: 'ConfigMap', data: { greeting: 'hello' } }, parameters },
    }) as unknown as Component;
  const before = configMap([]);
  const after = configMap([{ name: 'greeting', fieldPaths: ['data.greeting'] }]);
  const edit = {
    ...appConfig([]),
    spec: { components: [{ componentName: 'web', parameterValues: [{ name: 'greeting', value: 'hi' }] }] },
  };

  it('denies only what the Components and definitions as the API server has them deny (caches may lag)', async () => {
    let liveReads = 0;
    const lagging: WebhookDeps = {
      ...deps,
      components: () => staticComponents([before]),
      liveComponents: () => {
        liveReads++;
        return staticComponents([after]);
      },
    };
    assert.deepEqual(await validateApplicationConfigurations(lagging).handle(req('ApplicationConfiguration', edit)), {
      warnings: [],
    });
    assert.equal(liveReads, 1, 'the denial reached on the cached Component was checked again live');
    const web = component({ type: 'webservice', properties: { image: 'nginx' } }) as unknown as Component;
    const newDefinition: WebhookDeps = {
      ...deps,
      components: () => staticComponents([web]),
      cachedDefinitions: new StaticDefinitionSource({ objects: [] }),
    };
    assert.deepEqual(
      await validateApplicationConfigurations(newDefinition).handle(req('ApplicationConfiguration', appConfig([]))),
      { warnings: [] },
      'a WorkloadDefinition not in the watch cache yet is read live before denying',
    );
    const unchanged = { ...lagging, liveComponents: () => staticComponents([before]) };
    await assert.rejects(validateApplicationConfigurations(unchanged).handle(req('ApplicationConfiguration', edit)), {
      code: 'TRL_RENDER_PARAMETER_UNKNOWN',
      field: 'spec.components[0].parameterValues[0].name',
    });
  });
});
