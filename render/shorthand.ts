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
export async function resolveWorkload(
  workload: Record<string, unknown>,
  definitions: DefinitionSource,
  where: Where,
): Promise<Resolved<WorkloadDefinition>> {
  if (
    typeof workload.type === 'string' &&
    !(typeof workload.apiVersion === 'string' && typeof workload.kind === 'string')
  ) {
    const type = workload.type;
    const definition = await definitions.workloadDefinition(type);
    if (!definition) {
      throw new TrellisError(
        'TRL_RENDER_UNKNOWN_DEFINITION',
        `${where.what}: workload type "${type}" has no WorkloadDefinition`,
        { object: where.object, field: `${where.field}.type` },
      );
    }
    return resolveByDefinition(definition, type, workload, 'workload', definitions, where) as Promise<
      Resolved<WorkloadDefinition>
    >;
  }
  return resolveObject<WorkloadDefinition>(
    workload,
    LABEL_WORKLOAD_TYPE,
    (name) => definitions.workloadDefinition(name),
    definitions,
    where,
  );
}

/** Resolves one `traits[].trait` of an AppConfig component entry. */
export async function resolveTrait(
  trait: Record<string, unknown>,
  definitions: DefinitionSource,
  where: Where,
): Promise<Resolved<TraitDefinition>> {
  const shorthandName =
    typeof trait.name === 'string' ? trait.name : typeof trait.type === 'string' ? trait.type : undefined;
  if (shorthandName && !(typeof trait.apiVersion === 'string' && typeof trait.kind === 'string')) {
    const definition = await definitions.traitDefinition(shorthandName);
    if (!definition) {
      throw new TrellisError(
        'TRL_RENDER_UNKNOWN_DEFINITION',
        `${where.what}: trait type "${shorthandName}" has no TraitDefinition`,
        { object: where.object, field: `${where.field}.name` },
      );
    }
    return resolveByDefinition(definition, shorthandName, trait, 'trait', definitions, where) as Promise<
      Resolved<TraitDefinition>
    >;
  }
  return resolveObject<TraitDefinition>(
    trait,
    LABEL_TRAIT_TYPE,
    (name) => definitions.traitDefinition(name),
    definitions,
    where,
  );
}

async function resolveByDefinition(
  definition: WorkloadDefinition | TraitDefinition,
  type: string,
  written: Record<string, unknown>,
  role: 'workload' | 'trait',
  definitions: DefinitionSource,
  where: Where,
): Promise<Resolved<WorkloadDefinition | TraitDefinition>> {
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
  void role;
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
