import { templateShape, type StructShape } from '../render/index.js';
import { contextFieldsRead, type JsonSchema } from '../cue/index.js';
import { schemaIfDerivable } from './parameter-schemas.js';

/**
 * What admission knows about a CUE template without evaluating it, worked out once per template
 * content (so once per definition generation): the JSON Schema of its `parameter`, which `context`
 * fields it reads, the shape of what it sets (render/template-shape.ts), and whether it has rendered
 * in this process before.
 */
export interface TemplateFacts {
  /** The parameter's JSON Schema; `undefined` when CUE cannot express it (properties are then checked by rendering). */
  schema?: JsonSchema;
  /** `context` fields the template reads; `'all'` when it uses `context` as a whole. */
  reads: Set<string> | 'all';
  shape: StructShape;
  /**
   * The template has rendered successfully at least once here (any inputs). The schema covers only
   * `parameter`: a template whose output part does not compile (`parameter.replicaz`) is only
   * found out by rendering, so until one render succeeded nothing is decided from its facts.
   */
  rendered: boolean;
}

export interface TemplateFactsCache {
  /** The facts of a template (schema derived at most once; a failure other than "CUE cannot express it" is asked again). */
  of(template: string): Promise<TemplateFacts>;
  /** Records that these templates rendered (evaluated by CUE without an error). */
  rendered(templates: Iterable<string>): void;
}

/**
 * Template facts remembered by content, least recently used dropped beyond `max`. Schemas come from
 * `parameterSchema` (generated for built-in types, else derived by CUE once per template).
 *
 * @example
 *   const facts = cachedTemplateFacts(deps.parameterSchema)
 *   const { schema, shape, rendered } = await facts.of(template)
 */
export function cachedTemplateFacts(
  parameterSchema: (template: string) => Promise<JsonSchema>,
  max = 500,
): TemplateFactsCache {
  const cache = new Map<string, Promise<TemplateFacts>>();
  const rendered = new Map<string, true>();
  const remember = <V>(map: Map<string, V>, key: string, value: V) => {
    map.delete(key);
    map.set(key, value);
    if (map.size > max) map.delete(map.keys().next().value as string);
  };
  return {
    of(template) {
      let facts = cache.get(template);
      if (!facts) {
        facts = schemaIfDerivable(parameterSchema, template).then((schema) => ({
          ...(schema ? { schema } : {}),
          reads: contextFieldsRead(template),
          shape: templateShape(template),
          rendered: false,
        }));
        facts.catch(() => cache.delete(template));
      }
      remember(cache, template, facts);
      return facts.then((f) => ({ ...f, rendered: rendered.has(template) }));
    },
    rendered(templates) {
      for (const template of templates) remember(rendered, template, true);
    },
  };
}
