/**
 * JSON Schemas of the built-in templates' `parameter` (generated: definitions/generated), found by
 * the template's content, so a definition installed from the chart is recognised as well.
 */
import { createHash } from 'node:crypto';
import { PARAMETER_SCHEMAS } from './generated/parameter-schemas.js';

const byHash = new Map(Object.values(PARAMETER_SCHEMAS).map((e) => [e.template, e.schema]));
const memo = new Map<string, Record<string, unknown> | undefined>();

/** The schema of a built-in template's parameter, or `undefined` for any other template. */
export function builtinParameterSchema(template: string): Record<string, unknown> | undefined {
  if (memo.has(template)) return memo.get(template);
  const schema = byHash.get(createHash('sha256').update(template).digest('hex'));
  if (memo.size > 1000) memo.clear();
  memo.set(template, schema);
  return schema;
}
