/**
 * `trellis def list` and `trellis def show <type>`: the types an application can use (KubeVela's
 * `vela def list` / `vela show`), from the built-in catalog plus definitions given with
 * `--definitions`, with each parameter's type, default and description from the template's schema.
 */
import { stringify } from 'yaml';
import { ANNOTATION_DESCRIPTION, builtinParameterSchema, readCatalog, readObjectFiles } from '../definitions/index.js';
import type { TraitDefinition, WorkloadDefinition } from '../definitions/types.js';
import { TrellisError } from '../lib/errors.js';
import { isRecord } from '../lib/is-record.js';
import { didYouMean } from '../lib/suggest.js';
import { table, type OutputFormat } from './args.js';
import type { CommandIO } from './command.js';

type Definition = WorkloadDefinition | TraitDefinition;

/** One parameter, nested ones by path (`ports[].port`). */
export interface ParameterRow {
  name: string;
  type: string;
  required: boolean;
  default?: unknown;
  description?: string;
}

/** The built-in catalog, with `extra` definitions in front (same name: the extra one wins). */
export function definitions(extra: string[] = []): Definition[] {
  const given = readObjectFiles(extra)
    .map((f) => f.object)
    .filter((o) => o.kind === 'WorkloadDefinition' || o.kind === 'TraitDefinition') as unknown as Definition[];
  const names = new Set(given.map((d) => d.metadata.name));
  return [...given, ...readCatalog().filter((d) => !names.has(d.metadata.name))];
}

const templateOf = (d: Definition) =>
  (d.spec as { schematic?: { cue?: { template?: string } } }).schematic?.cue?.template;

/** What the `TYPE` column says of a schema. */
function typeOf(s: Record<string, unknown>): string {
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (Array.isArray(s.oneOf) || Array.isArray(s.anyOf))
    return ((s.oneOf ?? s.anyOf) as Record<string, unknown>[]).map(typeOf).join(' | ');
  if (s.type === 'array' && isRecord(s.items)) return `[]${typeOf(s.items)}`;
  if (s.type === 'object' && isRecord(s.additionalProperties)) return `map[string]${typeOf(s.additionalProperties)}`;
  return typeof s.type === 'string' ? s.type : Array.isArray(s.type) ? s.type.join(' | ') : 'any';
}

/** The parameters of a schema, depth first: an object's fields after it, an array's item fields as `name[].field`. */
export function parameterRows(schema: Record<string, unknown> | undefined, prefix = ''): ParameterRow[] {
  const props = isRecord(schema?.properties) ? (schema.properties as Record<string, Record<string, unknown>>) : {};
  const required = new Set(Array.isArray(schema?.required) ? (schema.required as string[]) : []);
  return Object.entries(props).flatMap(([name, s]) => {
    const path = `${prefix}${name}`;
    const row: ParameterRow = {
      name: path,
      type: typeOf(s),
      required: required.has(name),
      ...(s.default !== undefined ? { default: s.default } : {}),
      ...(typeof s.description === 'string' ? { description: s.description } : {}),
    };
    const nested =
      s.type === 'array' && isRecord(s.items)
        ? parameterRows(s.items, `${path}[].`)
        : s.type === 'object'
          ? parameterRows(s, `${path}.`)
          : [];
    return [row, ...nested];
  });
}

function kindWord(d: Definition): 'workload' | 'trait' {
  return d.kind === 'WorkloadDefinition' ? 'workload' : 'trait';
}

/** `trellis def list`. */
export function listDefinitions(io: CommandIO, defs: Definition[], output: OutputFormat): void {
  if (output === 'json' || output === 'yaml') return printObjects(io, defs, output);
  if (output === 'name') {
    io.out.write(defs.map((d) => `${d.kind.toLowerCase()}.core.oam.dev/${d.metadata.name}\n`).join(''));
    return;
  }
  const rows = defs.map((d) => {
    const spec = d.spec as { appliesToWorkloads?: string[]; definitionRef?: { name?: string } };
    const target =
      d.kind === 'TraitDefinition' ? (spec.appliesToWorkloads ?? ['*']).join(', ') : (spec.definitionRef?.name ?? '-');
    const description = d.metadata.annotations?.[ANNOTATION_DESCRIPTION] ?? '';
    const row = [d.metadata.name!, kindWord(d), target, output === 'wide' ? description : firstSentence(description)];
    return output === 'wide'
      ? [
          ...row,
          templateOf(d)
            ? `${parameterRows(builtinParameterSchema(templateOf(d)!)).filter((p) => !p.name.includes('.')).length}`
            : '-',
        ]
      : row;
  });
  const header = ['NAME', 'KIND', 'APPLIES TO / KIND', 'DESCRIPTION', ...(output === 'wide' ? ['PARAMETERS'] : [])];
  io.out.write(table([header, ...rows]));
}

/** `trellis def show <type>`. */
export function showDefinition(io: CommandIO, defs: Definition[], name: string, output: OutputFormat): void {
  const d = defs.find((x) => x.metadata.name === name);
  if (!d)
    throw new TrellisError(
      'TRL_DEF_NOT_FOUND',
      `no such workload or trait type${didYouMean(
        name,
        defs.map((x) => x.metadata.name!),
      )} (trellis def list lists them)`,
      { object: name },
    );
  if (output === 'json' || output === 'yaml') return printObjects(io, [d], output);
  const template = templateOf(d);
  const spec = d.spec as { appliesToWorkloads?: string[]; definitionRef?: { name?: string }; workloadRefPath?: string };
  io.out.write(`${kindWord(d) === 'workload' ? 'WorkloadDefinition' : 'TraitDefinition'} ${name}\n`);
  const description = d.metadata.annotations?.[ANNOTATION_DESCRIPTION];
  if (description) io.out.write(`${description}\n`);
  if (d.kind === 'TraitDefinition') io.out.write(`Applies to: ${(spec.appliesToWorkloads ?? ['*']).join(', ')}\n`);
  if (spec.definitionRef?.name) io.out.write(`Kind: ${spec.definitionRef.name}\n`);
  io.out.write('\n');
  if (!template) {
    io.out.write(
      `Parameters: none of its own — a component gives the ${spec.definitionRef?.name ?? 'object'}'s spec as written.\n`,
    );
    return;
  }
  const schema = builtinParameterSchema(template);
  if (!schema) {
    io.out.write(
      'Parameters: see its CUE template (no schema is known for it offline: `trellis def vet <file>` prints them).\n',
    );
    return;
  }
  const rows = parameterRows(schema);
  if (!rows.length) {
    io.out.write('Parameters: none\n');
    return;
  }
  io.out.write(
    table([
      ['PARAMETER', 'TYPE', 'REQUIRED', 'DEFAULT', 'DESCRIPTION'],
      ...rows.map((r) => [
        r.name,
        r.type,
        r.required ? 'yes' : 'no',
        r.default === undefined ? '-' : JSON.stringify(r.default),
        r.description ?? '',
      ]),
    ]),
  );
}

function printObjects(io: CommandIO, defs: Definition[], output: 'json' | 'yaml'): void {
  const doc = defs.length === 1 ? defs[0] : { apiVersion: 'v1', kind: 'List', items: defs };
  io.out.write(output === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc, { lineWidth: 0 }));
}

/** Up to the first full stop followed by a space (the table's short description; `-o wide` has it all). */
function firstSentence(text: string): string {
  const end = text.search(/\.\s/);
  return end < 0 ? text : text.slice(0, end + 1);
}
