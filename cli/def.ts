import { existsSync } from 'node:fs';
import path from 'node:path';
import { vetDefinition } from '../application/vet.js';
import { readObjectFiles } from '../definitions/files.js';
import type { TraitDefinition, WorkloadDefinition } from '../definitions/types.js';
import { TrellisError } from '../lib/errors.js';
import { CueEngine } from '../cue/index.js';
import type { JsonSchema } from '../cue/index.js';
import { CUE_ENGINE_OPTIONS, cueEngineOptions, cueEngineUsage, quietCueSay } from './cue-engine.js';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { parse } from './args.js';

const usage = `trellis def — work with definitions: vet checks that the CUE template compiles and the example renders

Usage: trellis def vet <file or dir> [...] [--example <file or dir>] [--cue-engine <engine>]

Reads WorkloadDefinitions and TraitDefinitions (YAML, or catalog .cue files). For each: compiles its
CUE template, prints its parameters, and renders its example — the --example given, else the folder
examples/<definition name>/ found next to the file or above it — with the definition in place of the
built-in one of that name.

Options:
  --example <path>        the example (Components + ApplicationConfiguration) to render
${cueEngineUsage(26)}`;

/** `examples/<name>/` in the file's folder or any folder above it. */
function findExample(file: string, name: string): string | undefined {
  let dir = path.dirname(file);
  for (;;) {
    const candidate = path.join(dir, 'examples', name);
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function describeParameters(schema: JsonSchema | undefined): string {
  const props = (schema?.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema?.required as string[] | undefined) ?? []);
  const names = Object.entries(props).map(([name, s]) => `${name}${required.has(name) ? '' : '?'}: ${(s.type as string | undefined) ?? 'any'}`);
  return names.length ? names.join(', ') : '(none)';
}

export const defCommand: Command = {
  usage,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub !== 'vet') throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'name a subcommand: vet');
    const { values, positionals } = parse(rest, { example: { type: 'string' }, ...CUE_ENGINE_OPTIONS });
    if (!positionals.length) throw new UsageError('name the definition file(s) to vet');
    const files = readObjectFiles(positionals.map((p) => path.resolve(io.cwd, p))).filter((f) => f.object.kind === 'WorkloadDefinition' || f.object.kind === 'TraitDefinition');
    if (!files.length) throw new TrellisError('TRL_DEFINITION_INVALID', 'found no WorkloadDefinition or TraitDefinition', { object: positionals.join(', ') });
    const engine = new CueEngine(cueEngineOptions(values['cue-engine'], io, quietCueSay(io)));
    try {
      for (const { file, object } of files) {
        const definition = object as unknown as WorkloadDefinition | TraitDefinition;
        const examplePath = values.example ? path.resolve(io.cwd, values.example) : findExample(file, definition.metadata.name!);
        const example = examplePath ? readObjectFiles([examplePath]).map((f) => f.object).filter((o) => o.kind !== 'WorkloadDefinition' && o.kind !== 'TraitDefinition') : undefined;
        const result = await vetDefinition(definition, { engine, ...(example ? { example } : {}) });
        io.out.write(`${result.id}: ok\n`);
        if (result.schema) io.out.write(`  parameters: ${describeParameters(result.schema)}\n`);
        if (result.schemaProblem) io.out.write(`  parameters: ${result.schemaProblem} (checked by rendering only)\n`);
        if (result.example) {
          const objects = result.example.reduce((n, a) => n + a.objects.length, 0);
          io.out.write(`  example ${path.relative(io.cwd, examplePath!) || '.'}: renders ${objects} object${objects === 1 ? '' : 's'}, uses it ${result.exampleUses} time${result.exampleUses === 1 ? '' : 's'}\n`);
        } else io.out.write('  no example found (give one with --example)\n');
      }
      return 0;
    } finally {
      await engine.stop();
    }
  },
};
