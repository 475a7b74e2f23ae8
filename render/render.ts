/**
 * The render stage (DESIGN.md §2): an ApplicationConfiguration, its Components and the definitions
 * → per component the workload, its auxiliary objects and its traits' objects and patches, all
 * labelled, unbound. bind/ finishes the job; most callers want both: application/'s `renderApplication`.
 */
import { createHash } from 'node:crypto';
import type {
  ApplicationConfiguration,
  Component,
  ComponentEntry,
  WorkloadDefinition,
} from '../apis/generated/core.oam.dev-v1alpha2.js';
import { TrellisError } from '../lib/errors.js';
import { checkDataFlow } from './data-flow.js';
import { applyParameters } from './parameters.js';
import { getFieldPath } from '../lib/fieldpath.js';
import { findPodTemplate } from './pod-template.js';
import { resolveWorkload, type Resolved } from './shorthand.js';
import { planTraits, renderTrait, type PlannedTrait, type TraitRequest } from './trait.js';
import type {
  RenderedApplication,
  RenderedComponent,
  RenderedTrait,
  RenderInput,
  ResolvedComponent,
  VelaConventions,
} from './types.js';
import { extraOf, renderWorkload } from './workload.js';
import type { KubeObject } from '../kube/types.js';

/** `ApplicationConfiguration/<ns>/<name>`, how errors name the AppConfig. */
export function appConfigId(appConfig: ApplicationConfiguration, namespace: string): string {
  return `ApplicationConfiguration/${namespace}/${appConfig.metadata.name ?? '<unnamed>'}`;
}

/** Everything an AppConfig needs resolved before any CUE runs (see {@link planApplication}). */
export interface ApplicationPlan {
  name: string;
  namespace: string;
  object: string;
  entries: EntryPlan[];
  /**
   * A hash of everything the rendering depends on: the AppConfig, each Component (after parameters)
   * and its revision, and the content of every definition and kind resolved. Equal fingerprints
   * render equal results (when no live objects are consulted).
   */
  fingerprint(): string;
}

/**
 * Resolves the AppConfig's entries (Components, parameters, workload and trait definitions, trait
 * names) and checks the data flow — everything but CUE, so bad input fails fast.
 */
export async function planApplication(input: RenderInput): Promise<ApplicationPlan> {
  const { appConfig } = input;
  const name = appConfig.metadata.name;
  if (!name)
    throw new TrellisError('TRL_RENDER_INVALID_OBJECT', 'the ApplicationConfiguration has no metadata.name', {
      object: 'ApplicationConfiguration',
    });
  const namespace = input.namespace ?? appConfig.metadata.namespace ?? 'default';
  const object = appConfigId(appConfig, namespace);
  const entries = await Promise.all(
    (appConfig.spec?.components ?? []).map((entry, index) => planEntry(input, entry, index, object)),
  );
  checkDataFlow(
    entries.map((p) => ({
      name: p.componentName,
      index: p.index,
      dataOutputs: p.entry.dataOutputs ?? [],
      dataInputs: p.entry.dataInputs ?? [],
      traits: p.traits.map((t) => ({
        name: t.name,
        index: t.index,
        dataOutputs: p.entry.traits?.[t.index]?.dataOutputs ?? [],
        dataInputs: p.entry.traits?.[t.index]?.dataInputs ?? [],
      })),
    })),
    object,
  );
  return {
    name,
    namespace,
    object,
    entries,
    fingerprint: () => fingerprintOf(appConfig, namespace, entries, input.vela),
  };
}

/** Renders a planned AppConfig: every component concurrently (CUE evaluations are batched). */
export async function renderPlan(plan: ApplicationPlan, input: RenderInput): Promise<RenderedApplication> {
  const components = await Promise.all(
    plan.entries.map((entry) => renderEntry(input, entry, plan.name, plan.namespace)),
  );
  return { name: plan.name, namespace: plan.namespace, components };
}

/**
 * Renders every component entry of the AppConfig, unbound (application/'s renderApplication also binds).
 * Throws a TrellisError naming the AppConfig, the entry and the reason on the first failure.
 */
export async function renderComponents(input: RenderInput): Promise<RenderedApplication> {
  return renderPlan(await planApplication(input), input);
}

const definitionHashes = new WeakMap<object, string>();
function hashOf(value: object | undefined): string {
  if (!value) return '';
  let h = definitionHashes.get(value);
  if (!h) {
    h = createHash('sha256').update(JSON.stringify(value)).digest('hex');
    definitionHashes.set(value, h);
  }
  return h;
}

function fingerprintOf(
  appConfig: ApplicationConfiguration,
  namespace: string,
  entries: EntryPlan[],
  vela?: VelaConventions,
): string {
  const resolvedOf = (r: Resolved<object>) => [
    r.mode,
    r.type,
    hashOf(r.definition),
    'resource' in r ? r.resource : undefined,
    'properties' in r ? r.properties : r.object,
  ];
  const material = [
    appConfig.metadata.name,
    namespace,
    appConfig.spec,
    entries.map((e) => [
      e.componentName,
      e.revisionName,
      resolvedOf(e.workload),
      e.traits.map((t) => [t.name, resolvedOf(t.resolved)]),
    ]),
    vela ? [vela.context, vela.labels, vela.annotations] : null,
  ];
  return createHash('sha256').update(JSON.stringify(material)).digest('hex');
}

async function resolveEntry(
  input: RenderInput,
  entry: ComponentEntry,
  object: string,
  field: string,
): Promise<ResolvedComponent> {
  if (entry.componentName && entry.revisionName) {
    throw new TrellisError(
      'TRL_RENDER_COMPONENT_ENTRY',
      'set either componentName (follow the latest revision) or revisionName (pin one), not both',
      { object, field },
    );
  }
  if (entry.revisionName) {
    const found = await input.components.revision(entry.revisionName);
    if (!found)
      throw new TrellisError(
        'TRL_RENDER_COMPONENT_MISSING',
        `component revision "${entry.revisionName}" does not exist`,
        { object, field: `${field}.revisionName` },
      );
    return { ...found, revisionName: found.revisionName ?? entry.revisionName };
  }
  if (!entry.componentName)
    throw new TrellisError('TRL_RENDER_COMPONENT_ENTRY', 'set componentName (or revisionName)', { object, field });
  const found = await input.components.component(entry.componentName);
  if (!found)
    throw new TrellisError('TRL_RENDER_COMPONENT_MISSING', `component "${entry.componentName}" does not exist`, {
      object,
      field: `${field}.componentName`,
    });
  return found;
}

interface EntryPlan {
  entry: ComponentEntry;
  index: number;
  object: string;
  component: Component;
  componentName: string;
  revisionName?: string;
  workload: Resolved<WorkloadDefinition>;
  traits: PlannedTrait[];
}

async function planEntry(input: RenderInput, entry: ComponentEntry, index: number, object: string): Promise<EntryPlan> {
  const field = `spec.components[${index}]`;
  const { component, revisionName } = await resolveEntry(input, entry, object, field);
  const componentName = component.metadata.name ?? entry.componentName ?? entry.revisionName!.replace(/-v\d+$/, '');
  const named = { ...component, metadata: { ...component.metadata, name: componentName } };
  const workloadSpec = applyParameters(named, entry.parameterValues, { object, field, component: componentName });
  const workload = await resolveWorkload(workloadSpec, input.definitions, {
    object: `Component/${componentName}`,
    field: 'spec.workload',
    what: `component "${componentName}"`,
  });
  const traits = await planTraits(entry, componentName, { object, field }, input.definitions);
  return {
    entry,
    index,
    object,
    component: named,
    componentName,
    ...(revisionName ? { revisionName } : {}),
    workload,
    traits,
  };
}

async function renderEntry(
  input: RenderInput,
  plan: EntryPlan,
  appName: string,
  namespace: string,
): Promise<RenderedComponent> {
  const { entry, index, object, componentName, revisionName, traits } = plan;
  const named = plan.component;
  const revisionEnabled = traits.some((t) => t.resolved.definition?.spec?.revisionEnabled);
  const rendered = await renderWorkload({
    component: named,
    resolved: plan.workload,
    ...(revisionName ? { revisionName } : {}),
    revisionEnabled,
    appName,
    namespace,
    where: { object: `Component/${componentName}`, field: 'spec', what: `component "${componentName}"` },
    engine: input.engine,
    ...(input.vela ? { vela: input.vela } : {}),
  });
  const workload = rendered.workload.object;
  const podTemplatePath = findPodTemplate(workload, rendered.definition?.spec?.podSpecPath);
  const stampOptions = { appName, namespace, ...(revisionName ? { revisionName } : {}), ...extraOf(input.vela) };
  const traitRequest = (plan: PlannedTrait, current: KubeObject): TraitRequest => ({
    plan,
    entry,
    component: componentName,
    object,
    workload: current,
    workloadOutputs: rendered.outputs,
    ...(podTemplatePath
      ? {
          podTemplate: (podTemplatePath.length ? getFieldPath(current, podTemplatePath) : current) as Record<
            string,
            unknown
          >,
        }
      : {}),
    stampOptions,
    engine: input.engine,
    ...(input.live ? { live: input.live } : {}),
    ...(input.vela ? { context: input.vela.context } : {}),
  });
  const renderedTraits = input.vela
    ? await traitsInOrder(input.vela, traits, workload, traitRequest)
    : await Promise.all(traits.map((plan) => renderTrait(traitRequest(plan, workload))));
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

/**
 * KubeVela's order: each trait sees, as `context.output`, the workload as the traits before it
 * patched it (a `command` trait can reach the container a `sidecar` trait added). bind/ merges the
 * same patches into the workload afterwards, so the result is the same as rendering them at once.
 */
async function traitsInOrder(
  vela: VelaConventions,
  traits: PlannedTrait[],
  workload: KubeObject,
  request: (p: PlannedTrait, w: KubeObject) => TraitRequest,
): Promise<RenderedTrait[]> {
  const rendered: RenderedTrait[] = [];
  let current = workload;
  for (const plan of traits) {
    const trait = await renderTrait(request(plan, current));
    if (trait.patch) current = vela.patchWorkload(current, trait.patch, trait.name, trait.patchTags);
    rendered.push(trait);
  }
  return rendered;
}
