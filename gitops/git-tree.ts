import path from 'node:path';
import { TrellisError } from '../lib/errors.js';
import { runGit } from './git.js';
import {
  checkLimits,
  isManifestPath,
  isWithin,
  normalizeSyncPath,
  type ReadLimits,
  type SourceFile,
} from './source-files.js';

interface TreeEntry {
  mode: string;
  sha: string;
  size: number;
}

const SYMLINK = '120000';
const MAX_HOPS = 40;

/** Lists every file of a commit: path → mode, blob and size. Submodules are left out. */
async function listTree(repo: string, commit: string): Promise<Map<string, TreeEntry>> {
  const { stdout } = await runGit(['ls-tree', '-r', '-z', '--long', '--full-tree', commit], {
    cwd: repo,
    timeoutMs: 30_000,
  });
  const entries = new Map<string, TreeEntry>();
  for (const record of stdout.split('\0')) {
    const tab = record.indexOf('\t');
    if (tab < 0) continue;
    const [mode, type, sha, size] = record.slice(0, tab).split(/\s+/) as [string, string, string, string];
    if (type !== 'blob') continue;
    entries.set(record.slice(tab + 1), { mode, sha, size: Number(size) || 0 });
  }
  return entries;
}

/** Reads blobs by SHA with one `git cat-file --batch`. */
async function readBlobs(repo: string, shas: string[]): Promise<Map<string, Buffer>> {
  const unique = [...new Set(shas)];
  const out = new Map<string, Buffer>();
  if (!unique.length) return out;
  const { raw } = await runGit(['cat-file', '--batch'], {
    cwd: repo,
    input: `${unique.join('\n')}\n`,
    binary: true,
    timeoutMs: 60_000,
  });
  let at = 0;
  while (at < raw.length) {
    const nl = raw.indexOf(0x0a, at);
    const [sha, , size] = raw.subarray(at, nl).toString('utf8').split(' ') as [string, string, string];
    const length = Number(size);
    out.set(sha, raw.subarray(nl + 1, nl + 1 + length));
    at = nl + 1 + length + 1;
  }
  return out;
}

/**
 * A path with every symlink in it resolved inside the repository. A link that is absolute, leaves
 * the repository, dangles or loops fails with `TRL_GITOPS_PATH_ESCAPE` naming the link.
 */
function resolveInRepo(rel: string, tree: Map<string, TreeEntry>, targets: Map<string, string>): string {
  let parts = rel.split('/').filter(Boolean);
  let hops = 0;
  for (let i = 0; i < parts.length; i++) {
    const prefix = parts.slice(0, i + 1).join('/');
    const entry = tree.get(prefix);
    if (entry?.mode !== SYMLINK) continue;
    if (++hops > MAX_HOPS)
      throw new TrellisError('TRL_GITOPS_PATH_ESCAPE', `symlink "${prefix}": too many levels of links`);
    const target = targets.get(entry.sha) ?? '';
    if (path.posix.isAbsolute(target))
      throw new TrellisError(
        'TRL_GITOPS_PATH_ESCAPE',
        `symlink "${prefix}" points to the absolute path "${target}", outside the repository`,
      );
    const joined = path.posix.normalize(path.posix.join(path.posix.dirname(prefix), target));
    if (joined === '..' || joined.startsWith('../'))
      throw new TrellisError(
        'TRL_GITOPS_PATH_ESCAPE',
        `symlink "${prefix}" points to "${target}", outside the repository`,
      );
    parts = [...(joined === '.' ? [] : joined.split('/')), ...parts.slice(i + 1)];
    i = -1;
  }
  return parts.join('/');
}

/**
 * The manifest files under `syncPath` at `commit`, read from git's object store (nothing is checked
 * out, so nothing in the repository touches the local filesystem). Symlinks are followed only
 * while they stay inside the repository; a symlink to a folder brings in that folder's files.
 */
export async function readCommitFiles(
  repo: string,
  commit: string,
  syncPath: string | undefined,
  limits: ReadLimits = {},
): Promise<SourceFile[]> {
  const tree = await listTree(repo, commit);
  const links = [...tree.values()].filter((e) => e.mode === SYMLINK).map((e) => e.sha);
  const targets = new Map([...(await readBlobs(repo, links))].map(([sha, buf]) => [sha, buf.toString('utf8')]));
  const dirs = new Set<string>();
  for (const p of tree.keys()) for (let d = path.posix.dirname(p); d !== '.'; d = path.posix.dirname(d)) dirs.add(d);
  const base = resolveInRepo(normalizeSyncPath(syncPath), tree, targets);
  if (base !== '' && !dirs.has(base) && !tree.has(base))
    throw new TrellisError('TRL_GITOPS_PATH', `"${syncPath}" does not exist at commit ${commit.slice(0, 12)}`, {
      field: 'spec.path',
    });

  const picked = new Map<string, string>(); // shown path → blob sha
  const add = (shown: string, real: string) => {
    const entry = tree.get(real);
    if (!entry)
      throw new TrellisError('TRL_GITOPS_PATH_ESCAPE', `symlink "${shown}" points to "${real}", which does not exist`);
    if (entry.mode !== SYMLINK) picked.set(shown, entry.sha);
  };
  for (const [p, entry] of tree) {
    if (!isWithin(p, base) || (!isManifestPath(p) && entry.mode !== SYMLINK)) continue;
    if (entry.mode !== SYMLINK) {
      picked.set(p, entry.sha);
      continue;
    }
    const real = resolveInRepo(p, tree, targets);
    if (dirs.has(real)) {
      for (const q of tree.keys())
        if (isWithin(q, real) && q !== real && isManifestPath(q))
          add(`${p}${q.slice(real.length)}`, resolveInRepo(q, tree, targets));
    } else if (isManifestPath(p)) add(p, real);
  }
  const bySha = new Map([...tree.values()].map((e) => [e.sha, e.size]));
  checkLimits(
    picked.size,
    [...picked.values()].reduce((n, sha) => n + (bySha.get(sha) ?? 0), 0),
    limits,
  );
  const blobs = await readBlobs(repo, [...picked.values()]);
  return [...picked]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([p, sha]) => ({ path: p, content: blobs.get(sha)!.toString('utf8') }));
}
