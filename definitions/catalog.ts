/**
 * The built-in catalog: one file per type under `definitions/catalog/` (shipped in the npm package).
 * A `.cue` file is a CUE-templated definition: a header of `//` comment lines holding YAML (kind,
 * description, spec fields), then the template. A `.yaml` file is a whole definition, for the
 * upstream `definitionRef` kinds (ContainerizedWorkload, ManualScalerTrait). The file name is the
 * definition name. Every type has an example in `examples/<type>/`.
 *
 * @example definitions/catalog/scaler.cue
 *   // trellis:definition
 *   // kind: TraitDefinition
 *   // description: Sets how many replicas the workload runs.
 *   // spec:
 *   //   appliesToWorkloads: ["*"]
 *   parameter: replicas: *1 | int
 *   patch: spec: replicas: parameter.replicas
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { TrellisError } from '../lib/errors.js';
import { precompiledFile, readPrecompiled } from '../lib/precompiled.js';
import { API_VERSION } from '../apis/generated/core.oam.dev-v1alpha2.js';
import { LABEL_BUILT_IN } from '../apis/labels.js';
import type { KubeObject } from '../kube/types.js';
import { StaticDefinitionSource } from './static-source.js';
import type { TraitDefinition, WorkloadDefinition } from './types.js';

export const HEADER_MARK = '// trellis:definition';
/** Annotation with a definition's one-line description (KubeVela's key). */
export const ANNOTATION_DESCRIPTION = 'definition.oam.dev/description';
const PART_OF = { 'app.kubernetes.io/part-of': 'trellis', [LABEL_BUILT_IN]: 'true' };

interface Header {
  kind?: string;
  description?: string;
  spec?: Record<string, unknown>;
}

/** Parses a catalog `.cue` file into its definition object. `name` is the definition name (the file name). */
export function definitionFromCue(
  name: string,
  source: string,
  file = `${name}.cue`,
): WorkloadDefinition | TraitDefinition {
  const lines = source.split('\n');
  if (lines[0]?.trim() !== HEADER_MARK)
    throw new TrellisError('TRL_DEFINITION_INVALID', `the first line must be "${HEADER_MARK}"`, { object: file });
  let end = 1;
  while (end < lines.length && lines[end].startsWith('//')) end++;
  const yaml = lines
    .slice(1, end)
    .map((l) => l.replace(/^\/\/ ?/, ''))
    .join('\n');
  let header: Header;
  try {
    header = (parse(yaml) ?? {}) as Header;
  } catch (err) {
    throw new TrellisError('TRL_DEFINITION_INVALID', `the header is not YAML: ${(err as Error).message}`, {
      object: file,
      cause: err,
    });
  }
  if (header.kind !== 'WorkloadDefinition' && header.kind !== 'TraitDefinition') {
    throw new TrellisError(
      'TRL_DEFINITION_INVALID',
      `header "kind" must be WorkloadDefinition or TraitDefinition, got ${JSON.stringify(header.kind)}`,
      { object: file },
    );
  }
  const template = lines.slice(end).join('\n').replace(/^\n+/, '');
  return {
    apiVersion: API_VERSION,
    kind: header.kind,
    metadata: {
      name,
      labels: { ...PART_OF },
      ...(header.description ? { annotations: { [ANNOTATION_DESCRIPTION]: header.description } } : {}),
    },
    spec: { ...(header.spec ?? {}), schematic: { cue: { template } } },
  } as WorkloadDefinition | TraitDefinition;
}

/** The folder holding the catalog files, found from this module in the source tree and in dist/. */
export function catalogDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the trellis package root');
    dir = parent;
  }
  return path.join(dir, 'definitions', 'catalog');
}

/** The catalog files' names (the definition's file name and kind of source). */
const CATALOG_FILE = /\.(cue|yaml)$/;

/**
 * The built-in catalog as `npm run build` precompiled it (scripts/build-precompiled.ts): the JSON of
 * {@link parseCatalog} beside this module in dist/, so a start parses no YAML.
 */
export const PRECOMPILED_CATALOG = 'catalog.json';

/** Parses every definition of a catalog folder, sorted by name. */
export function parseCatalog(dir = catalogDir()): (WorkloadDefinition | TraitDefinition)[] {
  return readdirSync(dir)
    .filter((f) => CATALOG_FILE.test(f))
    .sort()
    .map((f) => {
      const text = readFileSync(path.join(dir, f), 'utf8');
      if (f.endsWith('.cue')) return definitionFromCue(f.slice(0, -'.cue'.length), text, `definitions/catalog/${f}`);
      const obj = parse(text) as WorkloadDefinition | TraitDefinition;
      return { ...obj, metadata: { ...obj.metadata, labels: { ...PART_OF, ...obj.metadata.labels } } };
    });
}

/**
 * Every definition of a catalog folder, sorted by name (new objects on each call). The built-in
 * catalog (no `dir`) comes from its precompiled JSON when the build wrote one that no catalog file
 * is newer than; otherwise, and for any other folder, the files are parsed.
 */
export function readCatalog(dir?: string): (WorkloadDefinition | TraitDefinition)[] {
  if (dir !== undefined) return parseCatalog(dir);
  const builtin = catalogDir();
  return (
    readPrecompiled<(WorkloadDefinition | TraitDefinition)[]>(
      precompiledFile(import.meta.url, PRECOMPILED_CATALOG),
      builtin,
      CATALOG_FILE,
    ) ?? parseCatalog(builtin)
  );
}

let cached: StaticDefinitionSource | undefined;

/** The built-in catalog as a definition source (read once per process), with the built-in kinds. */
export function builtinCatalog(): StaticDefinitionSource {
  cached ??= new StaticDefinitionSource({ objects: readCatalog() as unknown as KubeObject[] });
  return cached;
}
