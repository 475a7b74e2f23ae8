/**
 * Build-time results read at run time, so a start skips work whose inputs ship unchanged (the
 * built-in catalog parsed, the Go evaluator's source hash): `npm run build` writes a JSON file next
 * to the compiled module (dist/), and the module reads it when present and not older than its
 * sources — make's rule, by modification time, so no source is read or hashed to know. A run from
 * the TypeScript sources (tsx) has no such file and computes the result, as does a run whose sources
 * were edited (or checked out) after the build.
 *
 * @example
 *   const file = precompiledFile(import.meta.url, 'catalog.json'); // dist/definitions/catalog.json
 *   const defs = readPrecompiled<Definition[]>(file, catalogDir(), /\.(cue|yaml)$/) ?? parseCatalog();
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The precompiled file `name` beside the module whose `import.meta.url` is given. */
export function precompiledFile(moduleUrl: string, name: string): string {
  return path.join(path.dirname(fileURLToPath(moduleUrl)), name);
}

/**
 * The JSON value in `file`, or `undefined` when there is none or when a file under `sourceDir`
 * (recursively) whose name matches `sources` was modified after it (stale: the caller computes).
 * A file that cannot be parsed counts as missing.
 */
export function readPrecompiled<T>(file: string, sourceDir: string, sources: RegExp): T | undefined {
  let built: number;
  try {
    built = statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
  if (newestMtime(sourceDir, sources) > built) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** The latest modification time of the matching files under `dir` (0 when there are none or no dir). */
function newestMtime(dir: string, sources: RegExp): number {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full, sources));
    else if (sources.test(entry.name)) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}
