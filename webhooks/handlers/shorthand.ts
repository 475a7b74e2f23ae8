import { TrellisError } from '../../lib/errors.js';
import type { DefinitionLookup } from '../definition-lookup.js';

export interface ShorthandInput {
  /** The workload or trait as written, e.g. `{ type, spec }` or `{ name, properties }`. */
  shorthand: Record<string, unknown>;
  /** `type` (workloads) or `name` (traits). */
  typeField: 'type' | 'name';
  typeLabel: string;
  definition: { kind: 'WorkloadDefinition' | 'TraitDefinition'; name: string; spec?: { definitionRef?: { name: string; version?: string }; schematic?: unknown } };
  lookup: DefinitionLookup;
  object: string;
  field: string;
}

/**
 * The object a shorthand stands for. With a `definitionRef`: the referenced kind, `properties` as
 * `spec`, the type label. With a CUE schematic: the shorthand unchanged (render/ evaluates
 * `type`/`name` + `properties`), since only the template knows what it renders.
 */
export async function expandShorthand(input: ShorthandInput): Promise<Record<string, unknown>> {
  const { shorthand, typeField, definition, object, field } = input;
  const ref = definition.spec?.definitionRef;
  if (!ref?.name) {
    if (definition.spec?.schematic) return shorthand;
    throw new TrellisError('TRL_ADMISSION_DEFINITION_INVALID', `${definition.kind} "${definition.name}" has neither a definitionRef nor a schematic, so it cannot stand for an object`, { object, field: `${field}.${typeField}` });
  }
  const target = await input.lookup.kindOf(ref);
  if (!target) {
    throw new TrellisError('TRL_ADMISSION_DEFINITION_KIND', `${definition.kind} "${definition.name}" refers to "${ref.name}"${ref.version ? ` version ${ref.version}` : ''}, which the API server does not serve; install its CRD first`, { object, field: `${field}.${typeField}` });
  }
  const { [typeField]: _type, properties, ...rest } = shorthand;
  for (const key of ['apiVersion', 'kind'] as const) {
    if (rest[key] !== undefined && rest[key] !== target[key]) {
      throw new TrellisError('TRL_ADMISSION_SHORTHAND', `is "${String(rest[key])}" but ${typeField} "${definition.name}" stands for ${target.apiVersion} ${target.kind}; drop ${key} or ${typeField}`, { object, field: `${field}.${key}` });
    }
  }
  if (properties !== undefined && rest.spec !== undefined) {
    throw new TrellisError('TRL_ADMISSION_SHORTHAND', 'set properties or spec, not both (properties becomes the spec)', { object, field: `${field}.properties` });
  }
  const metadata = (rest.metadata ?? {}) as { labels?: Record<string, string> };
  return {
    apiVersion: target.apiVersion,
    kind: target.kind,
    ...rest,
    metadata: { ...metadata, labels: { ...metadata.labels, [input.typeLabel]: definition.name } },
    ...(properties !== undefined ? { spec: properties } : {}),
  };
}
