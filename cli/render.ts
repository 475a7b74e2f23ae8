import { offlineHeader, renderObjects } from '../application/offline.js';
import { provenanceYaml, renderedYaml } from '../application/yaml.js';
import { fieldProvenance } from '../application/provenance.js';
import { parseObjectText, readObjectFiles } from '../definitions/files.js';
import { groupOf } from '../lib/api-version.js';
import { TrellisError } from '../lib/errors.js';
import { CueEngine } from '../cue/index.js';
import { CUE_ENGINE_OPTIONS, cueEngineOptions, cueEngineUsage, quietCueSay } from './cue-engine.js';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { OUTPUT_OPTION, outputFormat, outputUsage, parse, readStdin } from './args.js';
import path from 'node:path';

const usage = `trellis render — print every object an application would apply, without a cluster

Usage: trellis render -f <file, dir or -> [-f ...] [--definitions <file or dir>] [-n <namespace>] [options]

Reads Components, ApplicationConfigurations, WorkloadDefinitions, TraitDefinitions and CRDs — and
KubeVela's Applications, ComponentDefinitions and TraitDefinitions (core.oam.dev/v1beta1) — from the
files (YAML, multi-document; directories recursively), renders each ApplicationConfiguration and
Application with the built-in catalog plus the definitions given, and prints multi-document YAML.
Each object says where it came from: a comment, and the trellis.dev/definition, trellis.dev/trait
annotations.
Components given without an ApplicationConfiguration are rendered alone.
\`-f -\` reads standard input (\`kubectl apply -f -\` takes what it prints:
\`trellis render -f app.yaml | kubectl apply -f -\`).

Options:
  -f, --filename <path>     file or directory to read, - for standard input (repeatable)
  --definitions <path>      definitions (YAML or catalog .cue files) used before the built-in catalog
                            (repeatable)
  -n, --namespace <ns>      namespace of ApplicationConfigurations that set none (default: "default")
  --provenance              after each field, a comment saying what set it: a parameter of a component
                            or trait, an AppConfig parameterValue, a trait's patch, Trellis (labels,
                            workloadRef); fields without one came from the template in the header
${outputUsage(['yaml', 'json', 'name'], 28, 'yaml with comments; json: a List')}
${cueEngineUsage(28)}`;

export const renderCommand: Command = {
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      filename: { type: 'string', short: 'f', multiple: true },
      definitions: { type: 'string', multiple: true },
      namespace: { type: 'string', short: 'n' },
      provenance: { type: 'boolean' },
      ...OUTPUT_OPTION,
      ...CUE_ENGINE_OPTIONS,
    });
    const output = outputFormat(values.output, ['yaml', 'json', 'name']);
    const files = [...(values.filename ?? []), ...positionals];
    if (!files.length) throw new UsageError('name at least one file or directory with -f');
    const engine = new CueEngine(cueEngineOptions(values['cue-engine'], io, quietCueSay(io)));
    // The evaluator's process starts while the inputs are read (errors show at the first evaluation).
    void engine.start();
    try {
      const stdin = [...files, ...(values.definitions ?? [])].includes('-') ? await readStdin(io) : undefined;
      const read = (paths: string[]) =>
        paths
          .flatMap((p) => (p === '-' ? parseObjectText(stdin!, '<stdin>') : readObjectFiles([path.resolve(io.cwd, p)])))
          .map((f) => f.object);
      const objects = read(files);
      const definitions = read(values.definitions ?? []);
      const apps = await renderObjects(objects, {
        engine,
        definitions,
        ...(values.namespace ? { namespace: values.namespace } : {}),
      });
      if (!apps.length)
        throw new TrellisError(
          'TRL_RENDER_NOTHING',
          'found no ApplicationConfiguration, Application or Component to render',
          { object: files.join(', ') },
        );
      const rendered = apps.flatMap(({ app }) => app.objects.map((o) => o.object));
      if (output === 'json')
        io.out.write(`${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rendered }, null, 2)}\n`);
      else if (output === 'name')
        io.out.write(
          rendered
            .map(
              (o) =>
                `${o.kind.toLowerCase()}${groupOf(o.apiVersion) ? `.${groupOf(o.apiVersion)}` : ''}/${o.metadata.name}\n`,
            )
            .join(''),
        );
      else {
        const docs = await Promise.all(
          apps.map(async (a) => {
            if (!values.provenance) return renderedYaml(a.app.objects, offlineHeader(a));
            return provenanceYaml(a.app.objects, await fieldProvenance(a.input, a.app), offlineHeader(a));
          }),
        );
        io.out.write(docs.join('---\n'));
      }
      return 0;
    } finally {
      await engine.stop();
    }
  },
};
