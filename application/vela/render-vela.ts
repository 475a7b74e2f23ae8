/**
 * Rendering a KubeVela Application: policies and workflow checked, overrides applied, then the very
 * render + bind an ApplicationConfiguration goes through (`renderApplication`), with KubeVela's
 * conventions. Errors name the Application and its fields, not the translation.
 */
import type { Application, ApplicationComponent } from '../../apis/generated/core.oam.dev-v1beta1.js';
import type { CueEngine } from '../../cue/index.js';
import type { DefinitionSource } from '../../definitions/types.js';
import { isTrellisError, TrellisError } from '../../lib/errors.js';
import { staticComponents } from '../../render/components.js';
import type { BoundApplication, LiveObjects, RenderInput } from '../../render/types.js';
import { renderApplication } from '../render-application.js';
import { outputValues, producers, withInputs, type PendingInput } from './data-passing.js';
import { applicationId, applyOverrides, policyEffects, type PolicyEffects } from './policies.js';
import { translateApplication, type TranslateOptions } from './translate.js';
import { overridePolicies, workflowSteps, type Step } from './workflow.js';

export interface VelaRenderInput extends TranslateOptions {
  application: Application;
  definitions: DefinitionSource;
  engine: CueEngine;
  live?: LiveObjects;
}

export interface RenderedVelaApplication {
  /** Every object to apply, as for an ApplicationConfiguration (components in the Application's order). */
  app: BoundApplication;
  /** The workflow Trellis runs for it. */
  steps: Step[];
  effects: PolicyEffects;
  /**
   * Components not rendered (so not applied) yet: an input of theirs has no value — its producer is
   * not in the cluster yet, or its `valueFrom` reads a field not there yet (application/vela/data-passing.ts).
   */
  pending: PendingInput[];
  /** What render/ was given (the translated AppConfig and Components), e.g. for `fieldProvenance`. */
  input: RenderInput;
}

/**
 * Renders an Application into the objects KubeVela would apply for it. Throws a TrellisError naming
 * `Application/<ns>/<name>` and the field (`spec.components[0].traits[1].properties`).
 *
 * @example
 *   const { app } = await renderVelaApplication({ application, definitions, engine })
 */
export async function renderVelaApplication(input: VelaRenderInput): Promise<RenderedVelaApplication> {
  const { application } = input;
  try {
    // Data passing: render what has its inputs, read the outputs from the cluster, repeat while that
    // gives new values (a chain a → b → c takes one round per link; the render cache keeps it cheap).
    let values = new Map<string, unknown>();
    for (;;) {
      const prepared = velaRenderInput(input, values);
      const app = await renderApplication(prepared.input);
      const { components, ...rest } = prepared;
      if (!rest.pending.length) return { app, ...rest };
      const next = await outputValues(application, components, app, input.live, input.engine);
      if ([...next.values.keys()].every((k) => values.has(k)))
        return {
          app,
          ...rest,
          pending: rest.pending.map((p) => ({ ...p, reason: next.reasons.get(p.from) ?? p.reason })),
        };
      values = next.values;
    }
  } catch (err) {
    throw asApplicationError(err, application);
  }
}

/**
 * What rendering the Application gives render/ (policies and workflow checked, overrides applied,
 * translated), without rendering: e.g. for admission's quick path. Components whose inputs have no
 * value in `values` are left out (`pending`). Throws the untranslated error; `asApplicationError`
 * names the Application's fields.
 */
export function velaRenderInput(
  input: VelaRenderInput,
  values: Map<string, unknown> = new Map(),
): Omit<RenderedVelaApplication, 'app'> & { components: ApplicationComponent[] } {
  const { application } = input;
  const effects = policyEffects(application);
  const steps = workflowSteps(application);
  const all = applyOverrides(application, overridePolicies(steps));
  const { components, pending } = withInputs(all, values, producers(application, all));
  const t = translateApplication(application, components, input);
  const renderInput: RenderInput = {
    appConfig: t.appConfig,
    components: staticComponents(t.components, { latestRevisions: t.revisions }),
    definitions: preferComponentDefinitions(input.definitions),
    engine: input.engine,
    ...(input.live ? { live: input.live } : {}),
    vela: t.vela,
  };
  return { steps, effects, pending, components, input: renderInput };
}

/** A component `type` names a ComponentDefinition first (KubeVela's kind), then a WorkloadDefinition of that name. */
function preferComponentDefinitions(source: DefinitionSource): DefinitionSource {
  const lookup = source.componentDefinition?.bind(source);
  if (!lookup) return source;
  return {
    workloadDefinition: async (name) => (await lookup(name)) ?? source.workloadDefinition(name),
    componentDefinition: lookup,
    traitDefinition: (name) => source.traitDefinition(name),
    scopeDefinition: (name) => source.scopeDefinition(name),
    resourceByName: (name) => source.resourceByName(name),
    resourceByKind: (apiVersion, kind) => source.resourceByKind(apiVersion, kind),
  };
}

/**
 * A render error about the translated ApplicationConfiguration or Components, restated about the
 * Application: `ApplicationConfiguration/ns/app` → `Application/ns/app`, `…traits[1].trait.properties`
 * → `…traits[1].properties`, `Component/web: spec.workload.properties` → `spec.components[i].properties`.
 */
export function asApplicationError(err: unknown, app: Application): unknown {
  if (!isTrellisError(err)) return err;
  const id = applicationId(app);
  const field = (f: string | undefined) => f?.replace(/\.trait\.name$/, '.type').replace(/\.trait(?=\.|$)/g, '');
  let object = err.object;
  let at = field(err.field);
  const component = /^Component\/(.+)$/.exec(err.object ?? '');
  if (component) {
    const i = app.spec.components.findIndex((c) => c.name === component[1]);
    object = id;
    at = at
      ?.replace(/^spec\.workload(\.properties)?/, (_m, p: string | undefined) => `spec.components[${i}]${p ?? ''}`)
      .replace(/^spec\.components\[(\d+)\]\.type$/, 'spec.components[$1].type');
  } else if (err.object?.startsWith('ApplicationConfiguration/')) object = id;
  const reason = err.reason
    .replaceAll(`ApplicationConfiguration/${app.metadata.namespace ?? 'default'}/${app.metadata.name}`, id)
    .replace('has no WorkloadDefinition', 'has no ComponentDefinition (or WorkloadDefinition)');
  if (object === err.object && at === err.field && reason === err.reason) return err;
  return new TrellisError(err.code, reason, {
    ...(object ? { object } : {}),
    ...(at ? { field: at } : {}),
    cause: err.cause ?? err,
  });
}
