/** Rendering a component's workload: parameters, then its definition's template or the object as written. */
import type { Component, WorkloadDefinition } from '../apis/generated/core.oam.dev-v1alpha2.js';
import { TrellisError } from '../lib/errors.js';
import type { KubeObject } from '../kube/types.js';
import type { CueEngine } from '../cue/index.js';
import { renderError } from './errors.js';
import { checkProperties } from './properties.js';
import { stamp } from './metadata.js';
import type { Resolved, Where } from './shorthand.js';
import { contextFor, outputsOf, requireObject } from './template-output.js';
import type { RenderedObject, VelaConventions } from './types.js';

export interface WorkloadRequest {
  component: Component;
  /** The workload after parameters were applied, resolved (shorthand, template or object). */
  resolved: Resolved<WorkloadDefinition>;
  revisionName?: string;
  /** Name the workload after the revision (a revisionEnabled trait is attached). */
  revisionEnabled: boolean;
  appName: string;
  namespace: string;
  where: Where;
  engine: CueEngine;
  /** An Application's conventions (KubeVela). */
  vela?: VelaConventions;
}

export interface RenderedWorkload {
  type: string;
  definition?: WorkloadDefinition;
  workload: RenderedObject;
  outputs: RenderedObject[];
}

export async function renderWorkload(req: WorkloadRequest): Promise<RenderedWorkload> {
  const componentName = req.component.metadata.name!;
  const { resolved } = req;
  const definitionId = resolved.definition
    ? `${definitionKind(resolved.definition)}/${resolved.definition.metadata.name}`
    : undefined;
  const source = {
    component: componentName,
    role: 'workload' as const,
    ...(definitionId ? { definition: definitionId } : {}),
  };
  const stampOptions = {
    appName: req.appName,
    namespace: req.namespace,
    ...(req.revisionName ? { revisionName: req.revisionName } : {}),
    type: resolved.type,
    ...(resolved.definition ? { definition: resolved.definition } : {}),
    ...extraOf(req.vela),
  };

  if (resolved.mode !== 'template') {
    const written = resolved.object as KubeObject;
    const object = { ...written, metadata: { ...(written.metadata ?? {}) } };
    object.metadata.name = workloadName(req, object.metadata.name);
    return {
      type: resolved.type,
      ...(resolved.definition ? { definition: resolved.definition } : {}),
      workload: { object: stamp(object, { ...stampOptions, source }), source },
      outputs: [],
    };
  }

  const name = workloadName(req, undefined);
  const subject = {
    what: `component "${componentName}"`,
    object: `Component/${componentName}`,
    field: 'spec.workload.properties',
    ...(definitionId ? { definition: definitionId } : {}),
    properties: resolved.properties,
  };
  checkProperties(resolved.template, resolved.properties, subject);
  let result: Record<string, unknown>;
  try {
    result = await req.engine.evaluate({
      template: resolved.template,
      parameter: resolved.properties,
      context: contextFor(resolved.template, {
        name,
        namespace: req.namespace,
        appName: req.appName,
        componentName,
        revision: req.revisionName ?? '',
        ...req.vela?.context,
      }),
      fields: ['output', 'outputs', 'parameter'],
    });
  } catch (err) {
    throw renderError(err, subject);
  }
  if (result.output === undefined) {
    throw new TrellisError(
      'TRL_RENDER_TEMPLATE',
      `cannot render ${subject.what}: the template of ${definitionId} sets no "output"`,
      { object: definitionId ?? subject.object, field: 'spec.schematic.cue.template' },
    );
  }
  const object = requireObject(result.output, 'output', subject);
  // A revisionEnabled trait names the workload after the revision, whatever the template said.
  object.metadata.name =
    req.revisionEnabled && !ownsRevisions(resolved.definition) ? name : (object.metadata.name ?? name);
  return {
    type: resolved.type,
    definition: resolved.definition,
    workload: { object: stamp(object, { ...stampOptions, source }), source },
    outputs: outputsOf(result.outputs, subject, object.metadata.name!).map(({ key, object: o }) => {
      const s = { ...source, role: 'workload-output' as const, output: key };
      return { object: stamp(o, { ...stampOptions, source: s }), source: s };
    }),
  };
}

/** The kind a workload definition was written as: a KubeVela ComponentDefinition keeps its own kind. */
export function definitionKind(definition: { kind?: string }): string {
  return definition.kind === 'ComponentDefinition' ? 'ComponentDefinition' : 'WorkloadDefinition';
}

/** The stamp's extra labels and annotations of an Application's objects. */
export function extraOf(vela: VelaConventions | undefined): {
  extra?: { labels: Record<string, string>; annotations: Record<string, string> };
} {
  return vela ? { extra: { labels: vela.labels, annotations: vela.annotations } } : {};
}

/**
 * The workload's name: the revision's with a revisionEnabled trait, else the one written, else the
 * component's. A workload whose definition says it keeps revisions of its own
 * (`spec.extension.ownRevisions: true`, e.g. a Function with its FunctionRevisions) keeps its name:
 * a revisionEnabled trait then works with those revisions instead.
 */
function workloadName(req: WorkloadRequest, written: string | undefined): string {
  const componentName = req.component.metadata.name!;
  if (req.revisionEnabled && !ownsRevisions(req.resolved.definition)) return req.revisionName ?? componentName;
  return written || componentName;
}

/** The definition's workload keeps revisions of its own (`spec.extension.ownRevisions: true`). */
export function ownsRevisions(definition: WorkloadDefinition | undefined): boolean {
  return (definition?.spec?.extension as { ownRevisions?: unknown } | undefined)?.ownRevisions === true;
}
