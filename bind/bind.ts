/**
 * The bind stage (DESIGN.md §2): traits onto workloads. Checks `appliesToWorkloads` and
 * `conflictsWith`, merges patch traits into the workload (pod-template patches go wherever the
 * workload keeps its pod template), writes `workloadRef` at each trait's `workloadRefPath`, records
 * the trait ⇄ workload link as annotations, hands `spec.replicas` to an HPA that targets the
 * workload, and refuses two objects of one name.
 */
import { ANNOTATION_TRAITS, ANNOTATION_WORKLOAD, objectId } from '../apis/labels.js';
import { guessResourceName, isScalableKind } from '../definitions/builtin-kinds.js';
import type { DefinitionSource } from '../definitions/types.js';
import { groupOf } from '../lib/api-version.js';
import { TrellisError } from '../lib/errors.js';
import type { KubeObject } from '../kube/types.js';
import { deleteFieldPath, getFieldPath, setFieldPath, type PathSegment } from '../lib/fieldpath.js';
import type {
  BoundApplication,
  RenderedApplication,
  RenderedComponent,
  RenderedObject,
  RenderedTrait,
} from '../render/types.js';
import { appliesTo, findConflict } from './applies-to.js';
import { mergePatch, ownerKey, patchTouches } from './patch.js';
import { patchScope, scopeAt, strategicMerge } from './strategic-patch.js';
import { cloneJson } from '../lib/clone.js';

/** Binds every component of a rendered application. The input is not changed. */
export async function bindApplication(
  rendered: RenderedApplication,
  definitions: DefinitionSource,
): Promise<BoundApplication> {
  const object = `ApplicationConfiguration/${rendered.namespace}/${rendered.name}`;
  const components = await Promise.all(
    rendered.components.map((c) => bindComponent(shallowCopy(c), definitions, object)),
  );
  const objects = components.flatMap((c) => [
    c.workload,
    ...c.outputs,
    ...c.traits.flatMap((t) => [...(t.object ? [t.object] : []), ...t.outputs]),
  ]);
  await clusterScoped(objects, definitions);
  checkNames(objects, object);
  return { ...rendered, components, objects };
}

/**
 * A copy of the component's structure whose objects may be replaced: objects are copied on write
 * (bind never changes an object it was given; template results are shared with the CUE cache).
 */
function shallowCopy(c: RenderedComponent): RenderedComponent {
  const wrap = (o: RenderedObject): RenderedObject => ({ ...o });
  return {
    ...c,
    workload: wrap(c.workload),
    outputs: c.outputs.map(wrap),
    traits: c.traits.map((t) => ({
      ...t,
      ...(t.object ? { object: wrap(t.object) } : {}),
      outputs: t.outputs.map(wrap),
    })),
  };
}

/** Sets annotations on a copy of the object (its spec stays shared). */
function annotate(o: RenderedObject, annotations: Record<string, string>): void {
  o.object = {
    ...o.object,
    metadata: { ...o.object.metadata, annotations: { ...o.object.metadata.annotations, ...annotations } },
  };
}

async function bindComponent(
  c: RenderedComponent,
  definitions: DefinitionSource,
  object: string,
): Promise<RenderedComponent> {
  // The workload is changed in depth (patches, replicas): a deep copy of its own.
  if (c.traits.some((t) => t.patch || t.object || t.outputs.length)) c.workload.object = cloneJson(c.workload.object);
  const workload = c.workload.object;
  const field = (t: RenderedTrait) => `spec.components[${c.index}].traits[${t.index}]`;
  const resource = await definitions.resourceByKind(workload.apiVersion, workload.kind);
  const identity = {
    type: c.type,
    apiVersion: workload.apiVersion,
    kind: workload.kind,
    resourceName: resource?.name ?? guessResourceName(workload.apiVersion, workload.kind),
  };

  for (const t of c.traits) {
    if (!appliesTo(t.definition, identity)) {
      throw new TrellisError(
        'TRL_BIND_NOT_APPLICABLE',
        `trait "${t.type}" cannot be applied to component "${c.name}": TraitDefinition/${t.definition!.metadata.name} applies to ${t.definition!.spec!.appliesToWorkloads!.join(', ')}, and the workload is ${c.type} (${objectId(workload).split('/')[0]})`,
        { object, field: field(t) },
      );
    }
  }
  const conflict = findConflict(c.traits);
  if (conflict) {
    const other = conflict.declaredBy === conflict.a ? conflict.b : conflict.a;
    throw new TrellisError(
      'TRL_BIND_TRAIT_CONFLICT',
      `traits "${conflict.a.type}" and "${conflict.b.type}" of component "${c.name}" conflict: TraitDefinition/${conflict.declaredBy.definition?.metadata.name} lists "${other.type}" in conflictsWith`,
      {
        object,
        field: `spec.components[${c.index}].traits`,
      },
    );
  }

  const owners = new Map<string, string>();
  for (const t of c.traits) {
    const patch = t.patch;
    if (!patch) continue;
    const ctx = { trait: t.name, owners, object, field: field(t) };
    if (patchTouches(patch, ['spec', 'replicas']) && !hasReplicas(workload)) {
      throw new TrellisError(
        'TRL_BIND_NOT_APPLICABLE',
        `trait "${t.type}" cannot be applied to component "${c.name}": it sets spec.replicas, and ${objectId(workload)} has no spec.replicas`,
        { object, field: field(t) },
      );
    }
    // An Application's trait on the native engine carries KubeVela's strategy comments: merged as KubeVela does.
    const scope = t.patchTags !== undefined ? patchScope(t.patchTags, ctx) : undefined;
    const merge = (into: Record<string, unknown>, part: Record<string, unknown>, from: string[], at: PathSegment[]) =>
      scope ? strategicMerge(into, part, scopeAt(scope, from), ctx, at) : mergePatch(into, part, ctx, at);
    const rest = cloneJson(patch);
    const podPatch = getFieldPath(rest, ['spec', 'template']) as Record<string, unknown> | undefined;
    if (podPatch !== undefined) {
      if (!c.podTemplatePath) {
        throw new TrellisError(
          'TRL_BIND_NOT_APPLICABLE',
          `trait "${t.type}" cannot be applied to component "${c.name}": it patches the pod template, and ${objectId(workload)} has none`,
          { object, field: field(t) },
        );
      }
      deleteFieldPath(rest, ['spec', 'template']);
      if (!Object.keys(rest.spec as object).length) delete rest.spec;
      const target = c.podTemplatePath.length
        ? (getFieldPath(workload, c.podTemplatePath) as Record<string, unknown> | undefined)
        : workload;
      if (target) merge(target, podPatch, ['spec', 'template'], c.podTemplatePath);
      else setFieldPath(workload, c.podTemplatePath, cloneJson(podPatch));
    }
    merge(workload, rest, [], []);
  }

  releaseReplicasToHpa(c, owners, object);
  const workloadRef = { apiVersion: workload.apiVersion, kind: workload.kind, name: workload.metadata.name! };
  const records: string[] = [];
  for (const t of c.traits) {
    const path = t.definition?.spec?.workloadRefPath;
    if (t.object && path) {
      t.object.object = cloneJson(t.object.object);
      setFieldPath(t.object.object, path, { ...workloadRef });
    }
    for (const o of [...(t.object ? [t.object] : []), ...t.outputs])
      annotate(o, { [ANNOTATION_WORKLOAD]: objectId(workload) });
    const main = t.object ?? t.outputs[0];
    records.push(`${t.name}=${main ? objectId(main.object) : 'patch'}`);
  }
  if (records.length) annotate(c.workload, { [ANNOTATION_TRAITS]: records.join(',') });
  return c;
}

function hasReplicas(workload: KubeObject): boolean {
  return (
    getFieldPath(workload, ['spec', 'replicas']) !== undefined || isScalableKind(workload.apiVersion, workload.kind)
  );
}

/**
 * An HPA among the component's objects that scales the workload owns `spec.replicas`: Trellis leaves
 * the field out of what it applies (server-side apply then never fights the HPA). A trait that also
 * sets replicas is an error.
 */
function releaseReplicasToHpa(c: RenderedComponent, owners: Map<string, string>, object: string): void {
  const workload = c.workload.object;
  const hpa = c.traits
    .flatMap((t) => [...(t.object ? [t.object] : []), ...t.outputs].map((o) => ({ t, o: o.object })))
    .find(
      ({ o }) =>
        o.kind === 'HorizontalPodAutoscaler' && groupOf(o.apiVersion) === 'autoscaling' && targets(o, workload),
    );
  if (!hpa) return;
  const setter = owners.get(ownerKey(['spec', 'replicas']));
  if (setter && setter !== hpa.t.name) {
    throw new TrellisError(
      'TRL_BIND_TRAIT_CONFLICT',
      `trait "${setter}" sets spec.replicas of component "${c.name}", which the HorizontalPodAutoscaler of trait "${hpa.t.name}" owns`,
      {
        object,
        field: `spec.components[${c.index}].traits`,
      },
    );
  }
  deleteFieldPath(workload, ['spec', 'replicas']);
}

function targets(hpa: KubeObject, workload: KubeObject): boolean {
  const ref = (hpa.spec as { scaleTargetRef?: { kind?: string; name?: string } } | undefined)?.scaleTargetRef;
  return ref?.kind === workload.kind && ref?.name === workload.metadata.name;
}

/** Objects of cluster-scoped kinds (a ClusterRole among a trait's outputs) carry no namespace. */
async function clusterScoped(objects: RenderedObject[], definitions: DefinitionSource): Promise<void> {
  for (const o of objects) {
    if (!o.object.metadata.namespace) continue;
    const kind = await definitions.resourceByKind(o.object.apiVersion, o.object.kind);
    if (kind?.namespaced === false) {
      const { namespace: _dropped, ...metadata } = o.object.metadata;
      o.object = { ...o.object, metadata };
    }
  }
}

/** Two rendered objects of one kind and name would overwrite each other. */
function checkNames(objects: RenderedObject[], object: string): void {
  const seen = new Map<string, RenderedObject>();
  const describe = (o: RenderedObject) =>
    o.source.trait
      ? `trait "${o.source.trait}" of component "${o.source.component}"`
      : `component "${o.source.component}"`;
  for (const o of objects) {
    const key = `${groupOf(o.object.apiVersion)}/${o.object.kind}/${o.object.metadata.name}`;
    const first = seen.get(key);
    if (first) {
      throw new TrellisError(
        'TRL_BIND_NAME_COLLISION',
        `${describe(o)} renders ${objectId(o.object)}, which ${describe(first)} also renders; give one of them another name`,
        { object },
      );
    }
    seen.set(key, o);
  }
}
