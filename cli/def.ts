import { existsSync } from 'node:fs';
import path from 'node:path';
import { vetDefinition } from '../application/vet.js';
import { readObjectFiles } from '../definitions/files.js';
import type { TraitDefinition, WorkloadDefinition } from '../definitions/types.js';
import { TrellisError } from '../lib/errors.js';
import { didYouMean } from '../lib/suggest.js';
import { CueEngine } from '../cue/index.js';
import type { JsonSchema } from '../cue/index.js';
import { CUE_ENGINE_OPTIONS, cueEngineOptions, cueEngineUsage, quietCueSay } from './cue-engine.js';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { OUTPUT_OPTION, outputFormat, outputUsage, parse } from './args.js';
import { definitions, listDefinitions, showDefinition } from './def-catalog.js';

const usage = `trellis def — the workload and trait types: list them, show one's parameters, vet a new one

Usage: trellis def list [--definitions <file or dir>] [-o wide|yaml|json|name]
       trellis def show <type> [--definitions <file or dir>] [-o yaml|json]
       trellis def vet <file or dir> [...] [--example <file or dir>] [--cue-engine <engine>]

list: every type an application can use — the built-in catalog, and the definitions given (offline;
\`kubectl get workloaddefinitions,traitdefinitions\` lists a cluster's).
show: a type's description, what it applies to, and its parameters with type, whether required,
default and description (nested ones as \`ports[].port\`).
vet: reads WorkloadDefinitions and TraitDefinitions (YAML, or catalog .cue files). For each: compiles
its CUE template, prints its parameters, and renders its example — the --example given, else the
folder examples/<definition name>/ found next to the file or above it — with the definition in place
of the built-in one of that name.

Options:
  --definitions <path>    with list and show: definitions (YAML or catalog .cue files) beside the
                          built-in ones (repeatable)
  --example <path>        with vet: the example (Components + ApplicationConfiguration) to render
${outputUsage(['wide', 'yaml', 'json', 'name'], 26, 'a table')}
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
  const names = Object.entries(props).map(
    ([name, s]) => `${name}${required.has(name) ? '' : '?'}: ${(s.type as string | undefined) ?? 'any'}`,
  );
  return names.length ? names.join(', ') : '(none)';
}

const SUBCOMMANDS = ['list', 'show', 'vet'];

export const defCommand: Command = {
  usage,
  async complete(args) {
    if (args.length <= 1) return SUBCOMMANDS;
    return args[0] === 'show' && args.length === 2 ? definitions().map((d) => d.metadata.name!) : [];
  },
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === 'list' || sub === 'show') {
      const { values, positionals } = parse(rest, {
        definitions: { type: 'string', multiple: true },
        ...OUTPUT_OPTION,
      });
      const defs = definitions((values.definitions ?? []).map((p) => path.resolve(io.cwd, p)));
      if (sub === 'list') {
        if (positionals.length) throw new UsageError('def list takes no arguments (def show <type> shows one)');
        listDefinitions(io, defs, outputFormat(values.output, ['wide', 'yaml', 'json', 'name']));
      } else {
        if (positionals.length !== 1)
          throw new UsageError('name one type: trellis def show <type> (trellis def list lists them)');
        showDefinition(io, defs, positionals[0]!, outputFormat(values.output, ['yaml', 'json']));
      }
      return 0;
    }
    if (sub !== 'vet')
      throw new UsageError(
        sub ? `unknown subcommand "${sub}"${didYouMean(sub, SUBCOMMANDS)}` : 'name a subcommand: list, show or vet',
      );
    const { values, positionals } = parse(rest, { example: { type: 'string' }, ...CUE_ENGINE_OPTIONS });
    if (!positionals.length) throw new UsageError('name the definition file(s) to vet');
    const files = readObjectFiles(positionals.map((p) => path.resolve(io.cwd, p))).filter(
      (f) => f.object.kind === 'WorkloadDefinition' || f.object.kind === 'TraitDefinition',
    );
    if (!files.length)
      throw new TrellisError('TRL_DEFINITION_INVALID', 'found no WorkloadDefinition or TraitDefinition', {
        object: positionals.join(', '),
      });
    const engine = new CueEngine(cueEngineOptions(values['cue-engine'], io, quietCueSay(io)));
    try {
      for (const { file, object } of files) {
        const definition = object as unknown as WorkloadDefinition | TraitDefinition;
        const examplePath = values.example
          ? path.resolve(io.cwd, values.example)
          : findExample(file, definition.metadata.name!);
        const example = examplePath
          ? readObjectFiles([examplePath])
              .map((f) => f.object)
              .filter((o) => o.kind !== 'WorkloadDefinition' && o.kind !== 'TraitDefinition')
          : undefined;
        const result = await vetDefinition(definition, { engine, ...(example ? { example } : {}) });
        io.out.write(`${result.id}: ok\n`);
        if (result.schema) io.out.write(`  parameters: ${describeParameters(result.schema)}\n`);
        if (result.schemaProblem) io.out.write(`  parameters: ${result.schemaProblem} (checked by rendering only)\n`);
        if (result.example) {
          const objects = result.example.reduce((n, a) => n + a.objects.length, 0);
          io.out.write(
            `  example ${path.relative(io.cwd, examplePath!) || '.'}: renders ${objects} object${objects === 1 ? '' : 's'}, uses it ${result.exampleUses} time${result.exampleUses === 1 ? '' : 's'}\n`,
          );
        } else io.out.write('  no example found (give one with --example)\n');
      }
      return 0;
    } finally {
      await engine.stop();
    }
  },
};
