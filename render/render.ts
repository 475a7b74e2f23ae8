/**
 * The render stage (DESIGN.md §2): an ApplicationConfiguration, its Components and the definitions
 * → per component the workload, its auxiliary objects and its traits' objects and patches, all
 * labelled, unbound. bind/ (`renderApplication`) finishes the job; most callers want that.
 */
import type { ApplicationConfiguration, Component, ComponentEntry } from '../apis/generated/core.oam.dev-v1alpha2.js';
import { TrellisError } from '../lib/errors.js';
import { checkDataFlow } from './data-flow.js';
import { applyParameters } from './parameters.js';
import { getFieldPath } from './fieldpath.js';
import { findPodTemplate } from './pod-template.js';
import { planTraits, renderTrait, type PlannedTrait } from './trait.js';
import type { RenderedApplication, RenderedComponent, RenderInput, ResolvedComponent } from './types.js';
import { renderWorkload } from './workload.js';

/** `ApplicationConfiguration/<ns>/<name>`, how errors name the AppConfig. */
export function appConfigId(appConfig: ApplicationConfiguration, namespace: string): string {
  return `ApplicationConfiguration/${namespace}/${appConfig.metadata.name ?? '<unnamed>'}`;
}

/**
 * Renders every component entry of the AppConfig (concurrently; CUE evaluations are batched).
 * Throws a TrellisError naming the AppConfig, the entry and the reason on the first failure.
 */
export async function renderComponents(input: RenderInput): Promise<RenderedApplication> {
  const { appConfig } = input;
  const name = appConfig.metadata.name;
  if (!name) throw new TrellisError('TRL_RENDER_INVALID_OBJECT', 'the ApplicationConfiguration has no metadata.name', { object: 'ApplicationConfiguration' });
  const namespace = input.namespace ?? appConfig.metadata.namespace ?? 'default';
  const entries = appConfig.spec?.components ?? [];
  const object = appConfigId(appConfig, namespace);
  // Resolve everything first (no CUE yet): a missing Component or a bad data flow fails fast.
  const plans = await Promise.all(entries.map((entry, index) => planEntry(input, entry, index, object)));
  checkDataFlow(
    plans.map((p) => ({
      name: p.componentName,
      index: p.index,
      dataOutputs: p.entry.dataOutputs ?? [],
      dataInputs: p.entry.dataInputs ?? [],
      traits: p.traits.map((t) => ({ name: t.name, index: t.index, dataOutputs: p.entry.traits?.[t.index]?.dataOutputs ?? [], dataInputs: p.entry.traits?.[t.index]?.dataInputs ?? [] })),
    })),
    object,
  );
  const components = await Promise.all(plans.map((plan) => renderEntry(input, plan, name, namespace)));
  return { name, namespace, components };
}

async function resolveEntry(input: RenderInput, entry: ComponentEntry, object: string, field: string): Promise<ResolvedComponent> {
  if (entry.componentName && entry.revisionName) {
    throw new TrellisError('TRL_RENDER_COMPONENT_ENTRY', 'set either componentName (follow the latest revision) or revisionName (pin one), not both', { object, field });
  }
  if (entry.revisionName) {
    const found = await input.components.revision(entry.revisionName);
    if (!found) throw new TrellisError('TRL_RENDER_COMPONENT_MISSING', `component revision "${entry.revisionName}" does not exist`, { object, field: `${field}.revisionName` });
    return { ...found, revisionName: found.revisionName ?? entry.revisionName };
  }
  if (!entry.componentName) throw new TrellisError('TRL_RENDER_COMPONENT_ENTRY', 'set componentName (or revisionName)', { object, field });
  const found = await input.components.component(entry.componentName);
  if (!found) throw new TrellisError('TRL_RENDER_COMPONENT_MISSING', `component "${entry.componentName}" does not exist`, { object, field: `${field}.componentName` });
  return found;
}

interface EntryPlan {
  entry: ComponentEntry;
  index: number;
  object: string;
  component: Component;
  componentName: string;
  revisionName?: string;
  workloadSpec: Record<string, unknown>;
  traits: PlannedTrait[];
}

async function planEntry(input: RenderInput, entry: ComponentEntry, index: number, object: string): Promise<EntryPlan> {
  const field = `spec.components[${index}]`;
  const { component, revisionName } = await resolveEntry(input, entry, object, field);
  const componentName = component.metadata.name ?? entry.componentName ?? entry.revisionName!.replace(/-v\d+$/, '');
  const named = { ...component, metadata: { ...component.metadata, name: componentName } };
  const workloadSpec = applyParameters(named, entry.parameterValues, { object, field, component: componentName });
  const traits = await planTraits(entry, componentName, { object, field }, input.definitions);
  return { entry, index, object, component: named, componentName, ...(revisionName ? { revisionName } : {}), workloadSpec, traits };
}

async function renderEntry(input: RenderInput, plan: EntryPlan, appName: string, namespace: string): Promise<RenderedComponent> {
  const { entry, index, object, componentName, revisionName, traits } = plan;
  const named = plan.component;
  const workloadSpec = plan.workloadSpec;
  const revisionEnabled = traits.some((t) => t.resolved.definition?.spec?.revisionEnabled);
  const rendered = await renderWorkload({
    component: named,
    workload: workloadSpec,
    ...(revisionName ? { revisionName } : {}),
    revisionEnabled,
    appName,
    namespace,
    where: { object: `Component/${componentName}`, field: 'spec', what: `component "${componentName}"` },
    definitions: input.definitions,
    engine: input.engine,
  });
  const workload = rendered.workload.object;
  const podTemplatePath = findPodTemplate(workload, rendered.definition?.spec?.podSpecPath);
  const stampOptions = { appName, namespace, ...(revisionName ? { revisionName } : {}) };
  const renderedTraits = await Promise.all(
    traits.map((plan) =>
      renderTrait({
        plan,
        entry,
        component: componentName,
        object,
        workload,
        workloadOutputs: rendered.outputs,
        ...(podTemplatePath ? { podTemplate: (podTemplatePath.length ? getFieldPath(workload, podTemplatePath) : workload) as Record<string, unknown> } : {}),
        stampOptions,
        engine: input.engine,
        ...(input.live ? { live: input.live } : {}),
      }),
    ),
  );
  return {
    name: componentName,
    index,
    ...(revisionName ? { revisionName } : {}),
    type: rendered.type,
    ...(rendered.definition ? { definition: rendered.definition } : {}),
    workload: rendered.workload,
    outputs: rendered.outputs,
    traits: renderedTraits,
    scopes: (entry.scopes ?? []).map((s) => s.scopeRef),
    dataOutputs: entry.dataOutputs ?? [],
    dataInputs: entry.dataInputs ?? [],
    ...(podTemplatePath ? { podTemplatePath } : {}),
    revisionEnabled,
  };
}
