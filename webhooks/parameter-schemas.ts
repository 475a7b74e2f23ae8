import { createHash } from 'node:crypto';
import { builtinParameterSchema } from '../definitions/index.js';
import { isTrellisError } from '../lib/errors.js';
import type { CueEngine, JsonSchema } from '../cue/index.js';

const underivable = (err: unknown) => isTrellisError(err) && err.code === 'TRL_CUE_SCHEMA';

/**
 * The JSON Schema of a template's `parameter`: the generated one of a built-in type, else
 * `engine.parameterSchema` remembered by template content — deriving a schema runs CUE (~150 ms and
 * up), and the mutating and validating webhooks both ask for it on every review of a CUE-typed
 * shorthand. A template CUE cannot derive a schema for (`TRL_CUE_SCHEMA`) is remembered as such too;
 * other failures (CUE did not answer) are asked again next time. Least recently used schemas are
 * dropped beyond `max`.
 */
export function cachedParameterSchemas(engine: CueEngine, max = 1000): (template: string) => Promise<JsonSchema> {
  const cache = new Map<string, Promise<JsonSchema>>();
  return (template) => {
    const key = createHash('sha256').update(template).digest('base64url');
    let schema = cache.get(key);
    if (schema) {
      cache.delete(key);
    } else {
      const builtin = builtinParameterSchema(template);
      schema = builtin ? Promise.resolve(builtin) : engine.parameterSchema(template);
      schema.catch((err: unknown) => {
        if (!underivable(err)) cache.delete(key);
      });
    }
    cache.set(key, schema);
    if (cache.size > max) cache.delete(cache.keys().next().value as string);
    return schema;
  };
}

/**
 * The parameter's JSON Schema, or `undefined` when CUE cannot express it (`TRL_CUE_SCHEMA`): the
 * caller then checks properties by rendering only. Other failures are thrown.
 */
export async function schemaIfDerivable(
  parameterSchema: (template: string) => Promise<JsonSchema>,
  template: string,
): Promise<JsonSchema | undefined> {
  try {
    return await parameterSchema(template);
  } catch (err) {
    if (underivable(err)) return undefined;
    throw err;
  }
}
