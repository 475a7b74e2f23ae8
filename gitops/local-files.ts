import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { TrellisError } from '../lib/errors.js';
import { checkLimits, isManifestPath, normalizeSyncPath, type ReadLimits, type SourceFile } from './source-files.js';

/**
 * The manifest files under `syncPath` of a local folder (`trellis sync ./deploy`). Symlinks are
 * followed only while their real path stays inside `root`; one that leaves it fails with
 * `TRL_GITOPS_PATH_ESCAPE`. Paths in the result are relative to `root`, with `/`.
 */
export async function readLocalFiles(root: string, syncPath?: string, limits: ReadLimits = {}): Promise<SourceFile[]> {
  const realRoot = await realpath(root).catch((err: unknown) => {
    throw new TrellisError('TRL_GITOPS_PATH', `cannot read "${root}": ${(err as Error).message}`, { cause: err });
  });
  const inside = (real: string) => real === realRoot || real.startsWith(`${realRoot}${path.sep}`);
  const start = path.join(realRoot, normalizeSyncPath(syncPath));
  const files: { rel: string; real: string }[] = [];
  const seen = new Set<string>();
  const walk = async (dir: string, shown: string): Promise<void> => {
    const realDir = await realpath(dir);
    if (!inside(realDir))
      throw new TrellisError('TRL_GITOPS_PATH_ESCAPE', `"${shown || '.'}" resolves to ${realDir}, outside ${realRoot}`);
    if (seen.has(realDir)) return;
    seen.add(realDir);
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      const rel = shown ? `${shown}/${entry.name}` : entry.name;
      const real = entry.isSymbolicLink() ? await realpath(full).catch(() => '') : full;
      if (entry.isSymbolicLink() && (!real || !inside(real)))
        throw new TrellisError(
          'TRL_GITOPS_PATH_ESCAPE',
          `symlink "${rel}" points outside ${realRoot}${real ? ` (to ${real})` : ' or nowhere'}`,
        );
      const info = await stat(real);
      if (info.isDirectory()) await walk(real, rel);
      else if (info.isFile() && isManifestPath(rel)) files.push({ rel, real });
    }
  };
  const startInfo = await stat(start).catch(() => undefined);
  if (!startInfo)
    throw new TrellisError('TRL_GITOPS_PATH', `"${syncPath ?? '.'}" does not exist in ${realRoot}`, { field: 'path' });
  const startRel = path.relative(realRoot, start).split(path.sep).join('/');
  if (startInfo.isDirectory()) await walk(start, startRel);
  else {
    const real = await realpath(start);
    if (!inside(real))
      throw new TrellisError('TRL_GITOPS_PATH_ESCAPE', `"${startRel}" resolves to ${real}, outside ${realRoot}`);
    files.push({ rel: startRel, real });
  }
  let bytes = 0;
  for (const f of files) bytes += (await stat(f.real)).size;
  checkLimits(files.length, bytes, limits);
  return Promise.all(files.map(async (f) => ({ path: f.rel, content: await readFile(f.real, 'utf8') })));
}
