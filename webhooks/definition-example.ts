import { parse } from 'yaml';
import type { Component, TraitDefinition, WorkloadDefinition } from '../apis/generated/core.oam.dev-v1alpha2.js';
import type { Application } from '../apis/generated/core.oam.dev-v1beta1.js';
import { ANNOTATION_EXAMPLE } from '../apis/labels.js';
import { renderApplication } from '../application/index.js';
import { translateApplication } from '../application/vela/translate.js';
import { layeredSource, StaticDefinitionSource, templateOf, type DefinitionSource } from '../definitions/index.js';
import type { KubeObject } from '../kube/index.js';
import { isTrellisError, messageOf, TrellisError } from '../lib/errors.js';
import { schemaIfDerivable } from './parameter-schemas.js';
import { staticComponents, type VelaConventions } from '../render/index.js';
import { contextFieldsRead, type CueEngine, type JsonSchema } from '../cue/index.js';

/** The workload a trait's example is bound to when the example names none. */
const EXAMPLE_DEPLOYMENT = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  spec: {
    selector: { matchLabels: { app: 'example' } },
    template: {
      metadata: { labels: { app: 'example' } },
      spec: { containers: [{ name: 'example', image: 'example:1' }] },
    },
  },
};

export interface ExampleResult {
  rendered: boolean;
  /** Why the example was not rendered (no annotation and required parameters). */
  warning?: string;
}

/**
 * Checks a CUE-templated definition before it is admitted: the template compiles, and its example
 * renders through render/ + bind/ exactly as an application would (the `trellis.dev/example`
 * annotation, else the parameter defaults when every parameter has one). Throws
 * `TRL_ADMISSION_TEMPLATE` / `TRL_ADMISSION_EXAMPLE` naming the definition.
 */
export async function checkDefinitionExample(
  definition: (WorkloadDefinition | TraitDefinition) & KubeObject,
  deps: {
    definitions: DefinitionSource;
    engine: CueEngine;
    parameterSchema: (template: string) => Promise<JsonSchema>;
  },
): Promise<ExampleResult> {
  const template = templateOf(definition);
  if (template === undefined) return { rendered: false };
  const object = `${definition.kind}/${definition.metadata.name}`;
  const field = 'spec.schematic.cue.template';
  try {
    await deps.engine.check(template);
  } catch (err) {
    if (isTrellisError(err) && err.code === 'TRL_CUE_ENGINE') throw new Error(err.message, { cause: err });
    throw new TrellisError(
      'TRL_ADMISSION_TEMPLATE',
      `does not compile: ${isTrellisError(err) ? err.reason : messageOf(err)}`,
      { object, field, cause: err },
    );
  }
  const annotation = definition.metadata.annotations?.[ANNOTATION_EXAMPLE];
  let example: { properties?: Record<string, unknown>; workload?: Record<string, unknown> };
  if (annotation !== undefined) {
    try {
      example = (parse(annotation) ?? {}) as typeof example;
    } catch (err) {
      throw new TrellisError('TRL_ADMISSION_EXAMPLE', `is not YAML: ${messageOf(err)}`, {
        object,
        field: `metadata.annotations["${ANNOTATION_EXAMPLE}"]`,
      });
    }
  } else {
    // Without a schema (CUE cannot express the parameter), rendered with no properties: CUE says what is missing.
    const schema = await schemaIfDerivable(deps.parameterSchema, template);
    const required = (schema?.required as string[] | undefined) ?? [];
    if (required.length)
      return {
        rendered: false,
        warning: `${object}: not rendered before admission: parameters ${required.map((r) => `"${r}"`).join(', ')} have no default; add an example as annotation ${ANNOTATION_EXAMPLE}`,
      };
    example = {};
  }
  const name = definition.metadata.name!;
  const isTrait = definition.kind === 'TraitDefinition';
  const component: Component = {
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'Component',
    metadata: { name: 'example', namespace: 'default' },
    spec: {
      workload: isTrait
        ? (example.workload ?? EXAMPLE_DEPLOYMENT)
        : { type: name, properties: example.properties ?? {} },
    },
  };
  const appConfig = {
    apiVersion: 'core.oam.dev/v1alpha2' as const,
    kind: 'ApplicationConfiguration' as const,
    metadata: { name: 'example', namespace: 'default' },
    spec: {
      components: [
        {
          componentName: 'example',
          ...(isTrait ? { traits: [{ trait: { name, properties: example.properties ?? {} } }] } : {}),
        },
      ],
    },
  };
  try {
    await renderApplication({
      appConfig,
      components: staticComponents([component]),
      definitions: layeredSource(new StaticDefinitionSource({ objects: [definition] }), deps.definitions),
      engine: deps.engine,
      ...velaExample(template),
    });
  } catch (err) {
    if (isTrellisError(err) && err.code === 'TRL_CUE_ENGINE') throw new Error(err.message, { cause: err });
    // A parameter the schema cannot call required (KubeVela's `container-image`: one container's fields
    // or `containers: [...]`) may still have no defaults to render with: say so, as for required ones.
    if (
      annotation === undefined &&
      isTrellisError(err) &&
      PARAMETER_ERRORS.includes(err.code) &&
      /is required/.test(err.reason)
    )
      return {
        rendered: false,
        warning: `${object}: not rendered before admission: its parameter has no defaults to render with (${err.reason}); add an example as annotation ${ANNOTATION_EXAMPLE}`,
      };
    const source =
      annotation !== undefined ? `its example (annotation ${ANNOTATION_EXAMPLE})` : 'with its parameter defaults it';
    throw new TrellisError(
      'TRL_ADMISSION_EXAMPLE',
      `${source} does not render: ${isTrellisError(err) ? err.reason : messageOf(err)}`,
      { object, field, cause: err },
    );
  }
  return { rendered: true };
}

const PARAMETER_ERRORS = ['TRL_RENDER_PARAMETER', 'TRL_RENDER_PARAMETER_MISSING'];

/**
 * A template reading KubeVela's template context (`context.clusterVersion`, `appRevision`, …) renders
 * its example as an Application's component or trait renders: with that context (the `hpa` trait
 * reads `context.clusterVersion.minor`). Decided by the template, not the apiVersion: the API server
 * sends a v1beta1 definition to this webhook converted to v1alpha2.
 */
function velaExample(template: string): { vela?: VelaConventions } {
  const read = contextFieldsRead(template);
  const conventions = translateApplication(EXAMPLE_APPLICATION, []).vela;
  if (read !== 'all' && !Object.keys(conventions.context).some((k) => read.has(k))) return {};
  return { vela: conventions };
}

const EXAMPLE_APPLICATION: Application = {
  apiVersion: 'core.oam.dev/v1beta1',
  kind: 'Application',
  metadata: { name: 'example', namespace: 'default' },
  spec: { components: [] },
};
