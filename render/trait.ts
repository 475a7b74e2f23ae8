/** Rendering the traits of a component entry: resolve each (shorthand, template or object), name it, render it. */
import type { ComponentEntry, TraitDefinition } from '../apis/generated/core.oam.dev-v1alpha2.js';
import { LABEL_BUILT_IN } from '../apis/labels.js';
import type { DefinitionSource } from '../definitions/types.js';
import { TrellisError } from '../lib/errors.js';
import type { KubeObject } from '../kube/types.js';
import type { CueEngine } from '../cue/index.js';
import { renderError } from './errors.js';
import { checkProperties } from './properties.js';
import { stamp, type StampOptions } from './metadata.js';
import { resolveTrait, type Resolved } from './shorthand.js';
import { contextFor, outputsOf, requireObject } from './template-output.js';
import type { LiveObjects, PatchTags, Provenance, RenderedObject, RenderedTrait } from './types.js';
import { isRecord } from '../lib/is-record.js';

/** A trait resolved and named, before rendering. */
export interface PlannedTrait {
  index: number;
  name: string;
  resolved: Resolved<TraitDefinition>;
  field: string;
}

/** DNS-1123 label characters only: `manualscalertraits.core.oam.dev` → `manualscalertraits`. */
export function shortType(type: string): string {
  return (
    type
      .split('.')[0]
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'trait'
  );
}

/**
 * Resolves every trait of an entry and gives each its stable name: `metadata.name` when set, else
 * `<component>-<type>`, and `<component>-<type>-<n>` for the n-th trait of that type (n ≥ 2).
 */
export async function planTraits(
  entry: ComponentEntry,
  component: string,
  at: { object: string; field: string },
  definitions: DefinitionSource,
): Promise<PlannedTrait[]> {
  const seen = new Map<string, number>();
  const planned: PlannedTrait[] = [];
  for (const [index, t] of (entry.traits ?? []).entries()) {
    const field = `${at.field}.traits[${index}].trait`;
    if (!isRecord(t.trait))
      throw new TrellisError('TRL_RENDER_INVALID_OBJECT', `trait ${index} of component "${component}" is empty`, {
        object: at.object,
        field,
      });
    const label =
      typeof t.trait.name === 'string' ? t.trait.name : typeof t.trait.kind === 'string' ? t.trait.kind : `#${index}`;
    const resolved = await resolveTrait(t.trait, definitions, {
      object: at.object,
      field,
      what: `trait "${label}" of component "${component}"`,
    });
    const n = (seen.get(resolved.type) ?? 0) + 1;
    seen.set(resolved.type, n);
    const written = isRecord(t.trait.metadata) ? t.trait.metadata.name : undefined;
    const name =
      typeof written === 'string' && written
        ? written
        : `${component}-${shortType(resolved.type)}${n > 1 ? `-${n}` : ''}`;
    planned.push({ index, name, resolved, field });
  }
  return planned;
}

/** The name of the first container of a pod template. */
function firstContainer(podTemplate: Record<string, unknown> | undefined): string | undefined {
  const containers = (podTemplate?.spec as { containers?: { name?: unknown }[] } | undefined)?.containers;
  const name = containers?.[0]?.name;
  return typeof name === 'string' ? name : undefined;
}

export interface TraitRequest {
  plan: PlannedTrait;
  entry: ComponentEntry;
  component: string;
  object: string;
  workload: KubeObject;
  workloadOutputs: RenderedObject[];
  /** The workload's pod template (wherever its kind keeps it), for `context.podTemplate`, `context.hasPodTemplate` and `context.containerName`. */
  podTemplate?: Record<string, unknown>;
  stampOptions: Omit<StampOptions, 'source' | 'type'>;
  engine: CueEngine;
  live?: LiveObjects;
  /** An Application's extra template context (KubeVela). */
  context?: Record<string, unknown>;
}

export async function renderTrait(req: TraitRequest): Promise<RenderedTrait> {
  const { plan } = req;
  const { resolved } = plan;
  const definitionId = resolved.definition ? `TraitDefinition/${resolved.definition.metadata.name}` : undefined;
  const source: Provenance = {
    component: req.component,
    role: 'trait',
    trait: plan.name,
    ...(definitionId ? { definition: definitionId } : {}),
  };
  const entry = req.entry.traits?.[plan.index];
  const base: Omit<RenderedTrait, 'outputs'> = {
    name: plan.name,
    type: resolved.type,
    index: plan.index,
    ...(resolved.definition ? { definition: resolved.definition } : {}),
    dataOutputs: entry?.dataOutputs ?? [],
    dataInputs: entry?.dataInputs ?? [],
  };
  const stampWith = (o: KubeObject, s: Provenance): RenderedObject => ({
    object: stamp(o, {
      ...req.stampOptions,
      type: resolved.type,
      source: s,
      ...(resolved.definition ? { definition: resolved.definition } : {}),
    }),
    source: s,
  });

  if (resolved.mode !== 'template') {
    const written = resolved.object as KubeObject;
    const object = { ...written, metadata: { ...(written.metadata ?? {}), name: plan.name } };
    return { ...base, object: stampWith(object, source), outputs: [] };
  }

  const subject = {
    what: `trait "${resolved.type}" of component "${req.component}"`,
    object: req.object,
    field: `${plan.field}.properties`,
    ...(definitionId ? { definition: definitionId } : {}),
    properties: resolved.properties,
  };
  const ns = req.stampOptions.namespace;
  const liveWorkload = req.live?.({
    apiVersion: req.workload.apiVersion,
    kind: req.workload.kind,
    name: req.workload.metadata.name!,
    namespace: ns,
  });
  const output = liveWorkload?.status !== undefined ? { ...req.workload, status: liveWorkload.status } : req.workload;
  checkProperties(resolved.template, resolved.properties, subject);
  let result: Record<string, unknown>;
  try {
    result = await req.engine.evaluate({
      template: resolved.template,
      parameter: resolved.properties,
      context: contextFor(resolved.template, {
        name: req.workload.metadata.name,
        namespace: ns,
        appName: req.stampOptions.appName,
        componentName: req.component,
        revision: req.stampOptions.revisionName ?? '',
        traitName: plan.name,
        output,
        outputs: Object.fromEntries(
          req.workloadOutputs.map((o) => [o.source.output ?? o.object.metadata.name, o.object]),
        ),
        podTemplate: req.podTemplate,
        hasPodTemplate: req.podTemplate !== undefined,
        containerName: firstContainer(req.podTemplate),
        ...req.context,
      }),
      fields: [
        'output',
        'outputs',
        'patch',
        'parameter',
        'errs',
        ...(kubevelaPatch(req, resolved.definition, resolved.template) ? ['+patch'] : []),
      ],
    });
  } catch (err) {
    throw renderError(err, subject);
  }
  refuseErrs(result.errs, subject);
  const rendered: RenderedTrait = { ...base, outputs: [] };
  if (result.output !== undefined) {
    const object = requireObject(result.output, 'output', subject);
    object.metadata.name ??= plan.name;
    rendered.object = stampWith(object, source);
  }
  rendered.outputs = outputsOf(result.outputs, subject, plan.name).map(({ key, object }) =>
    stampWith(object, { ...source, role: 'trait-output', output: key }),
  );
  if (result.patch !== undefined) {
    if (!isRecord(result.patch)) {
      throw new TrellisError(
        'TRL_RENDER_TEMPLATE',
        `cannot render ${subject.what}: the template's "patch" must be an object`,
        { object: definitionId ?? req.object, field: 'spec.schematic.cue.template' },
      );
    }
    rendered.patch = result.patch;
    if ('+patch' in result) rendered.patchTags = (result['+patch'] ?? null) as PatchTags | null;
  }
  return rendered;
}

/**
 * Whether the trait's patch merges as KubeVela's (its strategy comments asked for; native engine only):
 * an Application's trait, unless its definition is one of Trellis' built-ins, which are written for
 * Trellis' name-keyed merge (a `containerName` picks a container by name, not by index). The label is
 * not enough: `kubectl apply` of KubeVela's `storage` over the built-in keeps it, so a built-in whose
 * template has strategy comments (KubeVela's) is KubeVela's.
 */
function kubevelaPatch(req: TraitRequest, definition: TraitDefinition | undefined, template: string): boolean {
  if (req.context === undefined) return false;
  const builtIn = definition?.metadata?.labels?.[LABEL_BUILT_IN] === 'true';
  return !builtIn || STRATEGY_COMMENT.test(template);
}
const STRATEGY_COMMENT = /\/\/\s*\+patch(Key|Strategy)=/;

/**
 * KubeVela's convention: a trait template that cannot do what it was asked lists why in `errs`
 * (`container sidecar not found`); a non-empty list fails the trait, as in KubeVela.
 */
function refuseErrs(errs: unknown, subject: { what: string; object: string; field: string }): void {
  if (!Array.isArray(errs) || !errs.length) return;
  const reasons = errs.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)));
  throw new TrellisError('TRL_RENDER_TEMPLATE', `cannot render ${subject.what}: ${reasons.join('; ')}`, {
    object: subject.object,
    field: subject.field,
  });
}
