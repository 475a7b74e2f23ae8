import { Ajv, type ErrorObject } from 'ajv';
import type { JsonSchema } from '../../cue/index.js';
import type { Problems } from '../problems.js';

const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true });
const compiled = new Map<string, ReturnType<typeof ajv.compile>>();

function validatorFor(schema: JsonSchema) {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(key, validate);
    if (compiled.size > 500) compiled.delete(compiled.keys().next().value as string);
  }
  return validate;
}

/**
 * Fills in the defaults a definition's `parameter` declares (`replicas: *1 | int`), in a copy of
 * `properties`. What cannot be defaulted is left as it is (validation reports it).
 */
export function withDefaults(
  properties: Record<string, unknown> | undefined,
  schema: JsonSchema,
): Record<string, unknown> {
  const copy = structuredClone(properties ?? {});
  validatorFor(schema)(copy);
  return copy;
}

/** Whether `properties` match a definition's parameter schema (all of it: required ones too). */
export function propertiesMatch(properties: Record<string, unknown> | undefined, schema: JsonSchema): boolean {
  return validatorFor(schema)(structuredClone(properties ?? {})) === true;
}

/**
 * Checks `properties` against a definition's parameter schema. A required parameter that a Component
 * parameter will supply (its field path is in `suppliedLater`, e.g. `image` for `properties.image`)
 * is not reported: the AppConfig sets it.
 */
export function checkProperties(
  properties: Record<string, unknown> | undefined,
  schema: JsonSchema,
  problems: Problems,
  options: { field: string; definition: string; suppliedLater?: string[] },
): void {
  const validate = validatorFor(schema);
  if (validate(structuredClone(properties ?? {}))) return;
  const later = new Set(options.suppliedLater ?? []);
  for (const e of validate.errors ?? []) {
    const path = e.instancePath.split('/').filter(Boolean).join('.');
    if (e.keyword === 'required') {
      const missing = [path, (e.params as { missingProperty: string }).missingProperty].filter(Boolean).join('.');
      if (later.has(missing)) continue;
      problems.add(
        'TRL_ADMISSION_PROPERTIES',
        options.field,
        `parameter "${missing}" of ${options.definition} is required`,
      );
    } else {
      problems.add(
        'TRL_ADMISSION_PROPERTIES',
        path ? `${options.field}.${path}` : options.field,
        `${explain(e)} (${options.definition})`,
      );
    }
  }
}

function explain(e: ErrorObject): string {
  if (e.keyword === 'additionalProperties')
    return `unknown parameter "${(e.params as { additionalProperty: string }).additionalProperty}"`;
  if (e.keyword === 'type') return `expected ${(e.params as { type: string }).type}`;
  if (e.keyword === 'enum')
    return `must be one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`;
  return e.message ?? e.keyword;
}
