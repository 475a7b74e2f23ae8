import { createHash } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import { TrellisError } from '../lib/errors.js';
import { credentialPlumbing, secretValues, type GitCredentials } from './credentials.js';
import { gitEnvironment, objectStoreBytes, runGit } from './git.js';
import { checkRepositoryUrl } from './url.js';

/** What to follow in a repository: at most one of these; none means the remote's HEAD. */
export interface GitRef {
  branch?: string;
  tag?: string;
  /** A semver range over the repository's tags (`v` prefixes allowed), e.g. `~1.4`. */
  semver?: string;
  /** A full 40-hex commit SHA. */
  commit?: string;
}

export interface FetchOptions {
  url: string;
  ref?: GitRef;
  credentials?: GitCredentials;
  /** Folder that keeps the shallow repository between fetches (one per GitSync). */
  cacheDir: string;
  /** Upper bound on each git command. @default 60000 */
  timeoutMs?: number;
  /** Upper bound on the repository's object store. @default 256 MiB */
  maxRepoBytes?: number;
  signal?: AbortSignal;
}

export interface FetchResult {
  /** The bare repository holding the commit. */
  repo: string;
  /** The commit the ref resolved to (40 hex). */
  commit: string;
  /** The ref as a person reads it: `branch main`, `tag v1.2.0 (semver ~1.2)`, `HEAD`. */
  ref: string;
}

const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
const REF_NAME = /^(?!\/|.*(?:\/\/|\.\.|@\{|\/\.|\.lock$|\/$))[^\s~^:?*[\\\x00-\x1f\x7f]+$/;

/** Rejects refs that are not single, well-formed names, with `TRL_GITOPS_REF`. */
export function checkRef(ref: GitRef = {}): void {
  const set = (['branch', 'tag', 'semver', 'commit'] as const).filter((k) => ref[k] !== undefined);
  if (set.length > 1)
    throw new TrellisError('TRL_GITOPS_REF', `set at most one of branch, tag, semver, commit (got ${set.join(', ')})`, {
      field: 'spec.ref',
    });
  if (ref.branch !== undefined && !REF_NAME.test(ref.branch))
    throw new TrellisError('TRL_GITOPS_REF', `"${ref.branch}" is not a valid branch name`, {
      field: 'spec.ref.branch',
    });
  if (ref.tag !== undefined && !REF_NAME.test(ref.tag))
    throw new TrellisError('TRL_GITOPS_REF', `"${ref.tag}" is not a valid tag name`, { field: 'spec.ref.tag' });
  if (ref.commit !== undefined && !/^[0-9a-f]{40}$/.test(ref.commit))
    throw new TrellisError('TRL_GITOPS_REF', `"${ref.commit}" is not a full 40-character commit SHA`, {
      field: 'spec.ref.commit',
    });
  if (ref.semver !== undefined && !semver.validRange(ref.semver))
    throw new TrellisError('TRL_GITOPS_REF', `"${ref.semver}" is not a semver range`, { field: 'spec.ref.semver' });
}

/** The highest tag satisfying `range`; tags that are not versions are ignored. */
export function pickSemverTag(tags: string[], range: string): string | undefined {
  const versions = new Map<string, string>();
  for (const tag of tags) {
    const v = semver.valid(tag, { loose: true });
    if (v && !versions.has(v)) versions.set(v, tag);
  }
  const best = semver.maxSatisfying([...versions.keys()], range);
  return best ? versions.get(best) : undefined;
}

/**
 * Fetches exactly one commit of a repository with the system git: shallow (`--depth 1`), only the
 * ref asked for, no tags, bounded in time and size, over `file://`, `http(s)://` or `ssh://` only.
 * The repository is kept under `cacheDir` and reused, so later fetches transfer only what changed.
 *
 * @example
 *   const { repo, commit } = await fetchRepository({ url: 'https://git.example.com/apps.git', ref: { branch: 'main' }, cacheDir })
 */
export async function fetchRepository(options: FetchOptions): Promise<FetchResult> {
  checkRepositoryUrl(options.url);
  const ref = options.ref ?? {};
  checkRef(ref);
  const maxRepoBytes = options.maxRepoBytes ?? DEFAULT_MAX_BYTES;
  const repo = path.join(options.cacheDir, createHash('sha256').update(options.url).digest('hex').slice(0, 16));
  const plumbing = await credentialPlumbing(options.credentials);
  const secrets = secretValues(options.credentials);
  const git = (args: string[], extra: { maxRepoBytes?: number } = {}) =>
    runGit(args, {
      cwd: repo,
      env: gitEnvironment(plumbing.dir, plumbing.env),
      secrets,
      timeoutMs: options.timeoutMs ?? 60_000,
      ...extra,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  try {
    await prepare(repo, maxRepoBytes);
    let source: string;
    let described: string;
    if (ref.branch !== undefined) [source, described] = [`refs/heads/${ref.branch}`, `branch ${ref.branch}`];
    else if (ref.tag !== undefined) [source, described] = [`refs/tags/${ref.tag}`, `tag ${ref.tag}`];
    else if (ref.commit !== undefined) [source, described] = [ref.commit, `commit ${ref.commit.slice(0, 12)}`];
    else if (ref.semver !== undefined) {
      const listed = await git(['ls-remote', '--tags', '--refs', options.url]);
      const tags = listed.stdout
        .split('\n')
        .map((l) => l.split('\t')[1]?.replace(/^refs\/tags\//, ''))
        .filter((t): t is string => !!t);
      const tag = pickSemverTag(tags, ref.semver);
      if (!tag)
        throw new TrellisError('TRL_GITOPS_REF', `no tag matches semver range "${ref.semver}" (${tags.length} tags)`, {
          field: 'spec.ref.semver',
        });
      [source, described] = [`refs/tags/${tag}`, `tag ${tag} (semver ${ref.semver})`];
    } else [source, described] = ['HEAD', 'HEAD'];
    await git(['fetch', '--depth=1', '--no-tags', '--no-recurse-submodules', '--quiet', options.url, source], {
      maxRepoBytes,
    }).catch((err: unknown) => {
      if (
        err instanceof TrellisError &&
        err.code === 'TRL_GITOPS_GIT' &&
        /couldn't find remote ref|not our ref|unadvertised object|no such remote ref/i.test(err.reason)
      ) {
        throw new TrellisError('TRL_GITOPS_REF', `the repository has no ${described}`, {
          field: 'spec.ref',
          cause: err,
        });
      }
      throw err;
    });
    if ((await objectStoreBytes(repo)) > maxRepoBytes) {
      await rm(repo, { recursive: true, force: true });
      throw new TrellisError(
        'TRL_GITOPS_TOO_LARGE',
        `the fetched repository is larger than the limit of ${maxRepoBytes} bytes`,
      );
    }
    const commit = (await git(['rev-parse', '--verify', 'FETCH_HEAD^{commit}'])).stdout.trim();
    await git(['update-ref', 'refs/trellis/fetched', commit]);
    return { repo, commit, ref: described };
  } finally {
    await plumbing.dispose();
  }
}

/** Creates the bare repository, or starts it afresh when it grew past half the size bound. */
async function prepare(repo: string, maxRepoBytes: number): Promise<void> {
  const exists = await stat(path.join(repo, 'HEAD')).then(
    () => true,
    () => false,
  );
  if (exists && (await objectStoreBytes(repo)) <= maxRepoBytes / 2) return;
  await rm(repo, { recursive: true, force: true });
  await mkdir(repo, { recursive: true });
  await runGit(['init', '--bare', '--quiet'], { cwd: repo });
}
