/**
 * Unknown properties. CUE structs are open, so a misspelt property (`replics: 3`) would be dropped
 * without a word; where the parameter's JSON Schema is known (the built-in types), names it lists
 * are the only ones allowed.
 */
import { builtinParameterSchema } from '../definitions/builtin-schemas.js';
import { TrellisError } from '../lib/errors.js';
import type { RenderSubject } from './errors.js';
import { isRecord } from '../lib/is-record.js';

type Schema = Record<string, unknown>;

/** Paths (`a.b`, `ports[0].nam`) of properties the schema does not allow, with the names it does. */
export function unknownProperties(schema: Schema, value: unknown, at = ''): { path: string; known: string[] }[] {
  if (Array.isArray(value) && isRecord(schema.items))
    return value.flatMap((v, i) => unknownProperties(schema.items as Schema, v, `${at}[${i}]`));
  if (!isRecord(value)) return [];
  const props = isRecord(schema.properties) ? (schema.properties as Record<string, Schema>) : undefined;
  const extra = schema.additionalProperties;
  return Object.entries(value).flatMap(([key, v]) => {
    const path = at ? `${at}.${key}` : key;
    if (props && key in props) return unknownProperties(props[key], v, path);
    if (isRecord(extra)) return unknownProperties(extra, v, path);
    if (props && extra === undefined) return [{ path, known: Object.keys(props) }];
    return [];
  });
}

/** Throws TRL_RENDER_PARAMETER for properties a built-in template does not know. */
export function checkProperties(template: string, properties: unknown, subject: RenderSubject): void {
  const schema = builtinParameterSchema(template);
  if (!schema) return;
  const unknown = unknownProperties(schema, properties);
  if (!unknown.length) return;
  const clauses = unknown.map((u) => `unknown parameter "${u.path}" (known here: ${u.known.join(', ')})`);
  throw new TrellisError('TRL_RENDER_PARAMETER', `cannot render ${subject.what}: ${clauses.join('; ')}`, {
    object: subject.object,
    field: subject.field,
  });
}
