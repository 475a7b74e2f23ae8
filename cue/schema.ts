/**
 * JSON Schema of a template's `parameter`, derived by CUE's own OpenAPI generator (`cue def --out
 * openapi`), which only describes definitions: the template's top-level `parameter` becomes
 * `#parameter`, its definitions (`#Port`) stay, everything else (output, patch, hidden helpers that
 * read `context`) is left out.
 */
import { layoutOf } from './source.js';

export type JsonSchema = Record<string, unknown>;

/** The CUE file whose OpenAPI output describes the template's `parameter`; `undefined` when it has none. */
export function schemaSource(template: string): string | undefined {
  const layout = layoutOf(template);
  const params = layout.decls.filter((d) => d.kind === 'field' && d.label === 'parameter');
  if (!params.length) return undefined;
  const keep = layout.decls
    .filter((d) => d.kind === 'definition' || (d.kind === 'field' && d.label === 'parameter'))
    .map((d) => {
      const text = template.slice(d.start, d.end);
      return d.label === 'parameter' ? text.replace(/^(?:"parameter"|parameter)/, '#parameter') : text;
    });
  // `cue def` rejects unused imports, so only those the kept declarations use are imported.
  const body = keep.join('\n');
  const imports = layout.imports
    .filter((i) => new RegExp(`(?<![\\w$#])${i.name}\\s*\\.`).test(body))
    .map((i) => `import ${i.name} ${JSON.stringify(i.path)}\n`);
  return `package trellis\n${imports.join('')}${body}\n`;
}

/**
 * Turns the generator's OpenAPI document into one self-contained JSON Schema for `parameter`:
 * references to other definitions inlined, and fields with a default not required (KubeVela
 * semantics: `replicas: *1 | int` may be left out). `undefined` when the document does not describe
 * `parameter`.
 */
export function openApiToJsonSchema(doc: Record<string, unknown>): JsonSchema | undefined {
  const schemas = ((doc.components as Record<string, unknown> | undefined)?.schemas ?? {}) as Record<
    string,
    JsonSchema
  >;
  const root = schemas.parameter;
  if (!root) return undefined;
  return toJsonSchemaBounds(relaxDefaults(inline(root, schemas, []))) as JsonSchema;
}

/** OpenAPI 3.0's boolean `exclusiveMinimum`/`exclusiveMaximum` → JSON Schema's numeric form (what ajv reads). */
function toJsonSchemaBounds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchemaBounds);
  if (!node || typeof node !== 'object') return node;
  const obj = Object.fromEntries(
    Object.entries(node as JsonSchema).map(([k, v]) => [k, toJsonSchemaBounds(v)]),
  ) as JsonSchema;
  for (const [flag, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (obj[flag] === true && typeof obj[bound] === 'number') {
      obj[flag] = obj[bound];
      delete obj[bound];
    } else if (obj[flag] === false) delete obj[flag];
  }
  return obj;
}

function inline(node: unknown, schemas: Record<string, JsonSchema>, trail: string[]): unknown {
  if (Array.isArray(node)) return node.map((n) => inline(n, schemas, trail));
  if (!node || typeof node !== 'object') return node;
  const obj = node as JsonSchema;
  if (typeof obj.$ref === 'string') {
    const name = obj.$ref.replace('#/components/schemas/', '');
    if (trail.includes(name) || !schemas[name]) return { type: 'object' };
    return inline(schemas[name], schemas, [...trail, name]);
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, inline(v, schemas, trail)]));
}

function relaxDefaults(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(relaxDefaults);
  if (!node || typeof node !== 'object') return node;
  const obj = Object.fromEntries(
    Object.entries(node as JsonSchema).map(([k, v]) => [k, relaxDefaults(v)]),
  ) as JsonSchema;
  const props = obj.properties as Record<string, JsonSchema> | undefined;
  if (Array.isArray(obj.required) && props) {
    const required = (obj.required as string[]).filter((name) => !hasDefault(props[name]));
    if (required.length) obj.required = required;
    else delete obj.required;
  }
  return obj;
}

function hasDefault(schema: JsonSchema | undefined): boolean {
  if (!schema) return false;
  if ('default' in schema) return true;
  // A struct whose every field has a default can be left out as a whole.
  const props = schema.properties as Record<string, JsonSchema> | undefined;
  return schema.type === 'object' && !!props && Object.keys(props).length > 0 && !schema.required;
}
