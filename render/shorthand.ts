/**
 * Resolving what a Component's workload or an AppConfig's trait IS: a full object (its kind names
 * its definition), or a shorthand (`workload.type` + `properties`/`spec`; trait `name` +
 * `properties`) resolved through the definition of that name. The webhooks use the same functions
 * to mutate definitionRef shorthands into full objects, as upstream's webhook did.
 */
import { LABEL_TRAIT_TYPE, LABEL_WORKLOAD_TYPE } from '../apis/labels.js';
import { TrellisError } from '../lib/errors.js';
import {
  templateOf,
  type DefinitionSource,
  type ResourceKind,
  type TraitDefinition,
  type WorkloadDefinition,
} from '../definitions/types.js';
import { guessResourceName } from '../definitions/builtin-kinds.js';
import { cloneJson } from '../lib/clone.js';
import { isRecord } from '../lib/is-record.js';

/** How a workload or trait is rendered. */
export type Resolved<D> =
  /** A CUE template: evaluate it with `properties`. */
  | { mode: 'template'; type: string; definition: D; template: string; properties: Record<string, unknown> }
  /** A definitionRef shorthand: the object is `{apiVersion, kind, spec: properties}` of the referenced kind. */
  | { mode: 'shorthand'; type: string; definition: D; resource: ResourceKind; object: Record<string, unknown> }
  /** A full object, used as written; its definition (if any) found by its kind's resource name. */
  | { mode: 'object'; type: string; definition?: D; resource?: ResourceKind; object: Record<string, unknown> };

export interface Where {
  object: string;
  field: string;
  /** `component "web"`, `trait "scaler" of component "web"`. */
  what: string;
}

/** Resolves a Component's `spec.workload` (after parameters). */
export function resolveWorkload(
  workload: Record<string, unknown>,
  definitions: DefinitionSource,
  where: Where,
): Promise<Resolved<WorkloadDefinition>> {
  const shorthand = typeof workload.type === 'string' ? { type: workload.type, field: 'type' } : undefined;
  return resolve(
    workload,
    shorthand,
    'WorkloadDefinition',
    LABEL_WORKLOAD_TYPE,
    (name) => definitions.workloadDefinition(name),
    definitions,
    where,
  );
}

/** Resolves one `traits[].trait` of an AppConfig component entry (its shorthand: `name`, or `type`). */
export function resolveTrait(
  trait: Record<string, unknown>,
  definitions: DefinitionSource,
  where: Where,
): Promise<Resolved<TraitDefinition>> {
  const shorthand =
    typeof trait.name === 'string'
      ? { type: trait.name, field: 'name' }
      : typeof trait.type === 'string'
        ? { type: trait.type, field: 'type' }
        : undefined;
  return resolve(
    trait,
    shorthand,
    'TraitDefinition',
    LABEL_TRAIT_TYPE,
    (name) => definitions.traitDefinition(name),
    definitions,
    where,
  );
}

/**
 * A workload or trait written as a shorthand (`shorthand`: the type it names and the field naming
 * it) without apiVersion and kind, through that definition; anything else as a full object.
 */
async function resolve<D extends WorkloadDefinition | TraitDefinition>(
  written: Record<string, unknown>,
  shorthand: { type: string; field: string } | undefined,
  definitionKind: 'WorkloadDefinition' | 'TraitDefinition',
  typeLabel: string,
  lookup: (name: string) => Promise<D | undefined>,
  definitions: DefinitionSource,
  where: Where,
): Promise<Resolved<D>> {
  if (!shorthand || (typeof written.apiVersion === 'string' && typeof written.kind === 'string'))
    return resolveObject<D>(written, typeLabel, lookup, definitions, where);
  const definition = await lookup(shorthand.type);
  if (!definition) {
    const role = definitionKind === 'WorkloadDefinition' ? 'workload' : 'trait';
    throw new TrellisError(
      'TRL_RENDER_UNKNOWN_DEFINITION',
      `${where.what}: ${role} type "${shorthand.type}" has no ${definitionKind}`,
      { object: where.object, field: `${where.field}.${shorthand.field}` },
    );
  }
  return resolveByDefinition(definition, shorthand.type, written, definitions, where);
}

/** A shorthand through its definition: a CUE template to evaluate, or the object of its definitionRef's kind. */
async function resolveByDefinition<D extends WorkloadDefinition | TraitDefinition>(
  definition: D,
  type: string,
  written: Record<string, unknown>,
  definitions: DefinitionSource,
  where: Where,
): Promise<Resolved<D>> {
  const properties = isRecord(written.properties) ? written.properties : isRecord(written.spec) ? written.spec : {};
  const template = templateOf(definition);
  if (template !== undefined) return { mode: 'template', type, definition, template, properties };
  const ref = definition.spec?.definitionRef?.name;
  const defId = `${definition.kind}/${definition.metadata.name}`;
  if (!ref)
    throw new TrellisError(
      'TRL_DEFINITION_INVALID',
      `${where.what}: ${defId} has neither a CUE schematic nor a definitionRef`,
      { object: defId, field: 'spec' },
    );
  const resource = await definitions.resourceByName(ref);
  if (!resource) {
    throw new TrellisError(
      'TRL_RENDER_UNKNOWN_KIND',
      `${where.what}: ${defId} refers to "${ref}", which is neither a CRD nor a known kind`,
      { object: defId, field: 'spec.definitionRef.name' },
    );
  }
  const apiVersion = definition.spec?.definitionRef?.version
    ? `${resource.apiVersion.replace(/[^/]*$/, '')}${definition.spec.definitionRef.version}`
    : resource.apiVersion;
  const object: Record<string, unknown> = {
    apiVersion,
    kind: resource.kind,
    metadata: isRecord(written.metadata) ? cloneJson(written.metadata) : {},
    spec: cloneJson(properties),
  };
  return { mode: 'shorthand', type, definition, resource, object };
}

/**
 * A full object's definition, found as upstream finds it: by the type label (`trait.oam.dev/type`,
 * `workload.oam.dev/type`) when the object has one naming a definition, else by the resource name of
 * its kind (`foos.example.com`). Without either, the object is applied as written (no definition).
 */
async function resolveObject<D>(
  obj: Record<string, unknown>,
  typeLabel: string,
  lookup: (name: string) => Promise<D | undefined>,
  definitions: DefinitionSource,
  where: Where,
): Promise<Resolved<D>> {
  if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string' || !obj.apiVersion || !obj.kind) {
    throw new TrellisError(
      'TRL_RENDER_INVALID_OBJECT',
      `${where.what}: needs either apiVersion and kind (a full object) or a type to resolve through a definition`,
      { object: where.object, field: where.field },
    );
  }
  const resource = await definitions.resourceByKind(obj.apiVersion, obj.kind);
  const labels = isRecord(obj.metadata) && isRecord(obj.metadata.labels) ? obj.metadata.labels : {};
  const labelled =
    typeof labels[typeLabel] === 'string' && labels[typeLabel] ? (labels[typeLabel] as string) : undefined;
  const byLabel = labelled ? await lookup(labelled) : undefined;
  const type = byLabel ? labelled! : (resource?.name ?? guessResourceName(obj.apiVersion, obj.kind));
  const definition = byLabel ?? (await lookup(type));
  return {
    mode: 'object',
    type,
    object: cloneJson(obj),
    ...(definition ? { definition } : {}),
    ...(resource ? { resource } : {}),
  };
}
