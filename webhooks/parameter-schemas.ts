import { createHash } from 'node:crypto';
import { builtinParameterSchema } from '../definitions/index.js';
import type { CueEngine, JsonSchema } from '../render/index.js';

/**
 * The JSON Schema of a template's `parameter`: the generated one of a built-in type, else
 * `engine.parameterSchema` remembered by template content — deriving a schema runs CUE (~150 ms and
 * up), and the mutating and validating webhooks both ask for it on every review of a CUE-typed
 * shorthand. Least recently used schemas are dropped beyond `max`.
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
      schema.catch(() => cache.delete(key));
    }
    cache.set(key, schema);
    if (cache.size > max) cache.delete(cache.keys().next().value as string);
    return schema;
  };
}
