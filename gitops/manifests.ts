import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../kube/types.js';
import { TrellisError } from '../lib/errors.js';
import type { SourceFile } from './source-files.js';
import { groupOf } from '../lib/api-version.js';

/** An object read from the repository, with where it came from (for error messages). */
export interface Manifest {
  object: KubeObject;
  /** `apps/web.yaml#2` — file and document index (from 1). */
  source: string;
}

function lineOf(content: string, offset: number): number {
  return content.slice(0, offset).split('\n').length;
}

/**
 * Parses every YAML (or JSON) document of the files into objects; `List` kinds are expanded, empty
 * documents skipped. Fails on the first problem with `TRL_GITOPS_MANIFEST`, naming file, line and
 * what is wrong — a commit that does not parse applies nothing. Two documents for the same object
 * are an error too.
 *
 * @example parseManifests([{ path: 'web.yaml', content: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n' }])
 */
export function parseManifests(files: SourceFile[]): Manifest[] {
  const out: Manifest[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    const docs = parseAllDocuments(file.content, { prettyErrors: false, uniqueKeys: true });
    if (!Array.isArray(docs)) continue; // an empty file
    docs.forEach((doc, i) => {
      const source = `${file.path}#${i + 1}`;
      const problem = doc.errors[0];
      if (problem)
        throw new TrellisError(
          'TRL_GITOPS_MANIFEST',
          `invalid YAML at line ${lineOf(file.content, problem.pos[0])}: ${problem.message.split('\n')[0]}`,
          { object: source },
        );
      const value: unknown = doc.toJS({ maxAliasCount: 100 });
      if (value === null || value === undefined) return;
      const items = isList(value) ? value.items : [value];
      items.forEach((item, j) => {
        const where = isList(value) ? `${source}: items[${j}]` : source;
        const object = checkObject(item, where);
        const key = `${groupOf(object.apiVersion)}/${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
        const twin = seen.get(key);
        if (twin)
          throw new TrellisError(
            'TRL_GITOPS_MANIFEST',
            `${object.kind} "${object.metadata.name}" is also defined in ${twin}`,
            { object: where },
          );
        seen.set(key, where);
        out.push({ object, source: where });
      });
    });
  }
  return out;
}

function isList(v: unknown): v is { items: unknown[] } {
  const o = v as { kind?: unknown; items?: unknown };
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.kind === 'string' &&
    o.kind.endsWith('List') &&
    Array.isArray(o.items)
  );
}

function checkObject(value: unknown, where: string): KubeObject {
  const fail = (field: string, reason: string) =>
    new TrellisError('TRL_GITOPS_MANIFEST', reason, { object: where, field });
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw fail('.', 'a manifest must be a mapping with apiVersion, kind and metadata');
  const o = value as Record<string, unknown>;
  if (typeof o.apiVersion !== 'string' || !o.apiVersion) throw fail('apiVersion', 'is required');
  if (typeof o.kind !== 'string' || !o.kind) throw fail('kind', 'is required');
  const metadata = o.metadata as Record<string, unknown> | undefined;
  if (typeof metadata !== 'object' || metadata === null) throw fail('metadata', 'is required');
  if (typeof metadata.name !== 'string' || !metadata.name)
    throw fail(
      'metadata.name',
      metadata.generateName ? 'generateName is not supported: a synced object needs a fixed name' : 'is required',
    );
  if (metadata.namespace !== undefined && typeof metadata.namespace !== 'string')
    throw fail('metadata.namespace', 'must be a string');
  return o as KubeObject;
}
