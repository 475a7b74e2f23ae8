import assert from 'node:assert/strict';
import type { KubeObject } from '../../kube/types.js';
import type { AdmissionRequest } from '../admission.js';
import type { DefinitionLookup, KindRef } from '../definition-lookup.js';
import { applyPatch } from '../json-patch.js';
import { mutateApplicationConfigurations } from './mutate-appconfig.js';
import { mutateComponents } from './mutate-component.js';
import { validateApplicationConfigurations } from './validate-appconfig.js';
import { validateComponents } from './validate-component.js';

/** Definitions held in memory: the handlers' view of the cluster, without one. */
function lookup(defs: { workloads?: Record<string, object>; traits?: Record<string, object>; kinds?: Record<string, KindRef> }): DefinitionLookup {
  return {
    workloadDefinition: async (name) => (defs.workloads?.[name] ? { apiVersion: 'core.oam.dev/v1alpha2', kind: 'WorkloadDefinition', metadata: { name }, spec: defs.workloads[name] } as never : undefined),
    traitDefinition: async (name) => (defs.traits?.[name] ? { apiVersion: 'core.oam.dev/v1alpha2', kind: 'TraitDefinition', metadata: { name }, spec: defs.traits[name] } as never : undefined),
    traitDefinitionForKind: async () => undefined,
    kindOf: async (ref) => defs.kinds?.[ref.name],
    component: async () => undefined,
  };
}

const definitions = lookup({
  workloads: { 'web-service': { definitionRef: { name: 'containerizedworkloads.core.oam.dev' } }, webservice: { schematic: { cue: { template: 'output: {}' } } }, dangling: { definitionRef: { name: 'gone.example.com' } } },
  traits: { footrait: { definitionRef: { name: 'foo.example.com' } }, ingress: { schematic: { cue: { template: 'outputs: {}' } } } },
  kinds: { 'containerizedworkloads.core.oam.dev': { apiVersion: 'core.oam.dev/v1alpha2', kind: 'ContainerizedWorkload' }, 'foo.example.com': { apiVersion: 'example.com/v1', kind: 'Foo' } },
});

function req(kind: string, object: object, operation: AdmissionRequest['operation'] = 'CREATE'): AdmissionRequest {
  return { uid: 'u', kind: { group: 'core.oam.dev', version: 'v1alpha2', kind }, resource: { group: 'core.oam.dev', version: 'v1alpha2', resource: `${kind.toLowerCase()}s` }, name: 'web', namespace: 'shop', operation, object: object as KubeObject };
}

const component = (workload: object) => ({ apiVersion: 'core.oam.dev/v1alpha2', kind: 'Component', metadata: { name: 'web', namespace: 'shop' }, spec: { workload } });
const appConfig = (traits: object[]) => ({ apiVersion: 'core.oam.dev/v1alpha2', kind: 'ApplicationConfiguration', metadata: { name: 'web', namespace: 'shop' }, spec: { components: [{ componentName: 'web', traits: traits.map((trait) => ({ trait })) }] } });

describe('webhooks: mutate-components', () => {
  const handler = mutateComponents(definitions);

  it('expands type + spec into the definition\'s kind, labelling workload and Component', async () => {
    const input = component({ type: 'web-service', spec: { containers: [] } });
    const { patch } = await handler.handle(req('Component', input));
    assert.deepEqual(applyPatch(input, patch!), {
      ...input,
      metadata: { ...input.metadata, labels: { 'workload.oam.dev/type': 'web-service' } },
      spec: { workload: { apiVersion: 'core.oam.dev/v1alpha2', kind: 'ContainerizedWorkload', metadata: { labels: { 'workload.oam.dev/type': 'web-service' } }, spec: { containers: [] } } },
    });
  });

  it('turns properties into spec, and leaves full objects alone', async () => {
    const input = component({ type: 'web-service', properties: { containers: [{ name: 'a' }] } });
    const { patch } = await handler.handle(req('Component', input));
    assert.deepEqual((applyPatch(input, patch!).spec.workload as { spec: unknown }).spec, { containers: [{ name: 'a' }] });
    assert.deepEqual(await handler.handle(req('Component', component({ apiVersion: 'v1', kind: 'ConfigMap' }))), {});
  });

  it('keeps the shorthand of a CUE-templated definition, adding only the label', async () => {
    const input = component({ type: 'webservice', properties: { image: 'nginx' } });
    const out = applyPatch(input, (await handler.handle(req('Component', input))).patch!);
    assert.deepEqual(out.spec.workload, { type: 'webservice', properties: { image: 'nginx' } });
    assert.equal((out.metadata as { labels?: Record<string, string> }).labels?.['workload.oam.dev/type'], 'webservice');
  });

  it('rejects a missing definition, a definition whose kind is not served, and contradicting fields', async () => {
    await assert.rejects(handler.handle(req('Component', component({ type: 'nope' }))), { code: 'TRL_ADMISSION_DEFINITION_MISSING', field: 'spec.workload.type' });
    await assert.rejects(handler.handle(req('Component', component({ type: 'dangling' }))), { code: 'TRL_ADMISSION_DEFINITION_KIND', message: /refers to "gone\.example\.com", which the API server does not serve/ });
    await assert.rejects(handler.handle(req('Component', component({ type: 'web-service', kind: 'Deployment' }))), { code: 'TRL_ADMISSION_SHORTHAND', field: 'spec.workload.kind' });
    await assert.rejects(handler.handle(req('Component', component({ type: 'web-service', spec: {}, properties: {} }))), { code: 'TRL_ADMISSION_SHORTHAND', field: 'spec.workload.properties' });
  });
});

describe('webhooks: mutate-applicationconfigurations', () => {
  const handler = mutateApplicationConfigurations(definitions);

  it('expands name + properties into the TraitDefinition\'s object with trait.oam.dev/type (upstream 11)', async () => {
    const input = appConfig([{ name: 'footrait', properties: { key: 'trait' } }, { apiVersion: 'core.oam.dev/v1alpha2', kind: 'ManualScalerTrait', spec: { replicaCount: 1 } }]);
    const out = applyPatch(input, (await handler.handle(req('ApplicationConfiguration', input))).patch!);
    assert.deepEqual(out.spec.components[0]!.traits, [
      { trait: { apiVersion: 'example.com/v1', kind: 'Foo', metadata: { labels: { 'trait.oam.dev/type': 'footrait' } }, spec: { key: 'trait' } } },
      { trait: { apiVersion: 'core.oam.dev/v1alpha2', kind: 'ManualScalerTrait', spec: { replicaCount: 1 } } },
    ]);
  });

  it('answers without a patch when nothing is shorthand or the definition is a CUE template', async () => {
    assert.deepEqual(await handler.handle(req('ApplicationConfiguration', appConfig([{ name: 'ingress', properties: { domain: 'x' } }]))), {});
  });

  it('names the trait whose definition is missing', async () => {
    await assert.rejects(handler.handle(req('ApplicationConfiguration', appConfig([{ apiVersion: 'v1', kind: 'Service' }, { name: 'nope' }]))), {
      message: '[TRL_ADMISSION_DEFINITION_MISSING] ApplicationConfiguration/shop/web: spec.components[0].traits[1].trait.name: TraitDefinition "nope" does not exist; apply it first (`kubectl get traitdefinitions` lists the traits there are)',
    });
  });
});

describe('webhooks: validate-components / validate-applicationconfigurations', () => {
  it('lists every problem of a Component in one denial', async () => {
    const input = { ...component({ spec: {} }), spec: { workload: { spec: {} }, parameters: [{ name: 'a', fieldPaths: [] }, { name: 'a', fieldPaths: ['x'] }] } };
    await assert.rejects(validateComponents(definitions).handle(req('Component', input)), (err: Error) => {
      assert.match(err.message, /^\[TRL_ADMISSION_WORKLOAD\] Component\/shop\/web: 3 problems: \(1\) .*spec\.workload: needs apiVersion and kind.*\(2\) .*spec\.parameters\[0\]\.fieldPaths: .*\(3\) .*spec\.parameters\[1\]\.name: parameter "a" is declared twice/);
      return true;
    });
  });

  it('admits a CUE-typed shorthand left in place, and denies one the mutating webhook should have expanded', async () => {
    assert.deepEqual(await validateComponents(definitions).handle(req('Component', component({ type: 'webservice' }))), {});
    await assert.rejects(validateComponents(definitions).handle(req('Component', component({ type: 'web-service' }))), { code: 'TRL_ADMISSION_SHORTHAND', message: /is the mutating webhook registered\?/ });
    await assert.rejects(validateApplicationConfigurations(definitions).handle(req('ApplicationConfiguration', appConfig([{ name: 'footrait' }]))), { code: 'TRL_ADMISSION_SHORTHAND' });
    await assert.rejects(validateApplicationConfigurations(definitions).handle(req('ApplicationConfiguration', appConfig([{ spec: {} }]))), { code: 'TRL_ADMISSION_TRAIT', field: 'spec.components[0].traits[0].trait' });
  });
});
