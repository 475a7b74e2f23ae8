import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../kube/index.js';
import { TrellisError } from '../lib/errors.js';

/** What `-f -` reads, as a file name in messages. */
export const STDIN = '<stdin>';

/**
 * Reads Kubernetes objects from YAML/JSON files and folders (recursively, `.yaml`/`.yml`/`.json`,
 * sorted by path); the path `-` is `stdin` (standard input, read by the caller). A document that
 * does not parse fails with the file and line.
 */
export async function readManifests(
  paths: string[],
  cwd: string,
  stdin?: string,
): Promise<{ file: string; object: KubeObject }[]> {
  const files: string[] = [];
  for (const p of paths) {
    if (p === '-') files.push(STDIN);
    else await collect(path.resolve(cwd, p), files);
  }
  const out: { file: string; object: KubeObject }[] = [];
  for (const file of files) {
    const text = file === STDIN ? (stdin ?? '') : await readFile(file, 'utf8');
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length) {
        const err = doc.errors[0]!;
        throw new TrellisError('TRL_MANIFEST_YAML', err.message.split('\n')[0]!, {
          object: path.relative(cwd, file) || file,
        });
      }
      const obj = doc.toJS() as KubeObject | null;
      if (!obj) continue;
      if (typeof obj !== 'object' || !obj.apiVersion || !obj.kind || !obj.metadata?.name) {
        throw new TrellisError('TRL_MANIFEST_OBJECT', 'every document needs apiVersion, kind and metadata.name', {
          object: path.relative(cwd, file) || file,
        });
      }
      out.push({ file, object: obj });
    }
  }
  return out;
}

async function collect(p: string, out: string[]): Promise<void> {
  const info = await stat(p).catch(() => undefined);
  if (!info) throw new TrellisError('TRL_MANIFEST_PATH', 'no such file or folder', { object: p });
  if (info.isFile()) {
    out.push(p);
    return;
  }
  for (const entry of (await readdir(p, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(p, entry.name);
    if (entry.isDirectory()) await collect(full, out);
    else if (/\.(ya?ml|json)$/.test(entry.name)) out.push(full);
  }
}
