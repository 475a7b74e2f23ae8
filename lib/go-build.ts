/**
 * Building our Go programs on first use: the local control plane's binaries (controlplane/) and the
 * native CUE evaluator (cue/) alike. Each is a Go module kept in this repository, built with the
 * local Go toolchain into `<cacheDir>/trellis/bin/<name>-<version>-<hash>/`, with progress lines,
 * a lock so parallel runs build once, and one sentence when Go is missing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TrellisError } from './errors.js';

/** A Go module of ours and the commands built from it. */
export interface GoBuild {
  /** Names the build in the cache key and in messages, e.g. `kube`, `cue-evaluator`. */
  name: string;
  /** The module's folder (holding go.mod). */
  moduleDir: string;
  /** The version of what is built (the main dependency's), part of the cache key. */
  version: string;
  /**
   * The hash of the module's sources ({@link moduleHash}), the other part of the cache key, when it is
   * known already (computed at build time): saves reading and hashing them. @default computed
   */
  sourceHash?: string;
  /** Binary name → Go package to build. */
  commands: Record<string, string>;
  /** Extra `-ldflags` (e.g. version stamps). */
  ldflags?: string[];
  /**
   * Files copied from a dependency's module source into the cache next to the binaries:
   * output name → { module, files (relative paths, concatenated as YAML documents) }.
   */
  assets?: Record<string, { module: string; files: string[] }>;
  /** The one sentence (TRL_GO_MISSING) when Go is missing: what it is for and how to do without it. */
  goMissing: string;
  /** Error codes of a failed build and of a missing prebuilt binary. */
  codes: { build: string; prebuilt: string };
}

export interface BinaryOptions {
  /** Root of the cache; binaries go to `<cacheDir>/trellis/bin/<name>-<version>-<hash>/`. */
  cacheDir: string;
  /** A folder holding prebuilt binaries with the tool's command names: no build at all. */
  prebuiltDir?: string;
  /** Environment for `go` (PATH, HOME, GOPATH, proxies). */
  env: NodeJS.ProcessEnv;
  /** Receives one line at a time while building. */
  onProgress?: (line: string) => void;
  /** How often a progress line is printed during a build, in ms. @default 15000 */
  progressEveryMs?: number;
}

/** Absolute paths of the tool's binaries, by command name. */
export type Binaries = Record<string, string>;

/**
 * Returns the tool's binaries, building them from the tool's Go module with the local Go toolchain
 * when the cache does not have them yet. The cache key is the module's version and the hash of its
 * go.mod, go.sum and sources, so editing the module rebuilds. Concurrent callers (parallel test
 * runs) wait for one build instead of starting their own.
 */
export async function ensureGoBuild(tool: GoBuild, options: BinaryOptions): Promise<Binaries> {
  if (options.prebuiltDir) return prebuilt(tool, options.prebuiltDir);
  const { dir, binaries } = await cachedBuild(tool, options.cacheDir);
  if (existsSync(path.join(dir, '.complete'))) return binaries;

  await mkdir(path.dirname(dir), { recursive: true });
  const release = await lock(`${dir}.lock`, options.onProgress);
  try {
    if (existsSync(path.join(dir, '.complete'))) return binaries;
    await build(tool, dir, options);
    return binaries;
  } finally {
    await release();
  }
}

/**
 * Where the tool's binaries are (or would be) cached, and whether a complete build is there: no Go
 * needed to answer.
 */
export async function cachedBuild(
  tool: GoBuild,
  cacheDir: string,
): Promise<{ dir: string; binaries: Binaries; complete: boolean }> {
  const key = `${tool.name}-${tool.version}-${tool.sourceHash ?? (await moduleHash(tool.moduleDir))}`;
  const dir = path.join(cacheDir, 'trellis', 'bin', key);
  const binaries = Object.fromEntries(
    [...Object.keys(tool.commands), ...Object.keys(tool.assets ?? {})].map((name) => [name, path.join(dir, name)]),
  );
  return { dir, binaries, complete: existsSync(path.join(dir, '.complete')) };
}

function prebuilt(tool: GoBuild, dir: string): Binaries {
  const binaries: Binaries = {};
  for (const name of [...Object.keys(tool.commands), ...Object.keys(tool.assets ?? {})]) {
    const file = path.join(dir, name);
    if (!existsSync(file))
      throw new TrellisError(
        tool.codes.prebuilt,
        `prebuilt binary ${file} is missing (expected ${Object.keys(tool.commands).join(', ')} in ${dir})`,
      );
    binaries[name] = file;
  }
  return binaries;
}

/** The files of a Go module that make its build: what {@link moduleHash} reads. */
export const GO_SOURCES = /\.(go|mod|sum)$/;

/** A short hash of a Go module's go.mod, go.sum and sources (names and contents): the cache key's part that changes with an edit. */
export async function moduleHash(moduleDir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (GO_SOURCES.test(entry.name)) hash.update(path.relative(moduleDir, full)).update(await readFile(full));
    }
  };
  await walk(moduleDir);
  return hash.digest('hex').slice(0, 12);
}

/** The local Go toolchain's version (`go1.26.8`), or `undefined` when there is none on the env's PATH. */
export function goVersion(env: NodeJS.ProcessEnv): string | undefined {
  const result = spawnSync('go', ['env', 'GOVERSION'], { env, encoding: 'utf8' });
  return result.error || result.status !== 0 ? undefined : result.stdout.trim();
}

/** Checks for Go once, with the one sentence a user needs when it is missing (TRL_GO_MISSING). */
export function requireGo(env: NodeJS.ProcessEnv, sentence: string): string {
  const version = goVersion(env);
  if (!version) throw new TrellisError('TRL_GO_MISSING', sentence);
  return version;
}

async function build(tool: GoBuild, dir: string, options: BinaryOptions): Promise<void> {
  const goVersion = requireGo(options.env, tool.goMissing);
  const moduleDir = tool.moduleDir;
  const say = options.onProgress ?? (() => {});
  const names = [...Object.keys(tool.commands), ...Object.keys(tool.assets ?? {})];
  const env = { ...options.env, CGO_ENABLED: '0', GOFLAGS: '-mod=readonly' };
  const started = Date.now();
  say(
    `${Object.keys(tool.commands).length ? 'building' : 'fetching'} ${names.join(', ')} ${tool.version} with ${goVersion} (first run only; cached afterwards)`,
  );
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  if (Object.keys(tool.commands).length)
    await compile(tool, moduleDir, tmp, env, say, options.progressEveryMs ?? 15_000);
  for (const [name, asset] of Object.entries(tool.assets ?? {})) {
    // A module nothing is built from is not downloaded by `go build`: download it (checked against go.sum).
    await run('go', ['mod', 'download', asset.module], moduleDir, env, () => {}).catch((err: Error) => {
      throw new TrellisError(
        tool.codes.build,
        `cannot download Go module ${asset.module} (for ${name}) in ${moduleDir}`,
        { cause: err },
      );
    });
    let sourceDir = '';
    await run(
      'go',
      ['list', '-m', '-f', '{{.Dir}}', asset.module],
      moduleDir,
      env,
      (line) => (sourceDir ||= line.trim()),
    );
    const docs = await Promise.all(asset.files.map((f) => readFile(path.join(sourceDir, f), 'utf8')));
    await writeFile(path.join(tmp, name), docs.map((d) => d.trim()).join('\n---\n') + '\n');
  }
  await writeFile(path.join(tmp, '.complete'), `${tool.version} built ${new Date().toISOString()} with ${goVersion}\n`);
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  say(`${Object.keys(tool.commands).length ? 'built' : 'fetched'} ${names.join(', ')} in ${elapsed(started)} → ${dir}`);
}

/** `go build` of the tool's commands into `out`, with a progress line now and then. */
async function compile(
  tool: GoBuild,
  moduleDir: string,
  out: string,
  env: NodeJS.ProcessEnv,
  say: (line: string) => void,
  everyMs: number,
): Promise<void> {
  const names = Object.keys(tool.commands);
  const packages = Object.values(tool.commands);
  const started = Date.now();
  const total = await countPackages(moduleDir, packages, env, say);
  let compiled = 0;
  const tail: string[] = [];
  const ticker = setInterval(() => {
    const pct = total ? ` (${Math.min(99, Math.round((compiled / total) * 100))}%)` : '';
    say(`building ${names.join(', ')}: ${compiled}/${total || '?'} packages${pct}, ${elapsed(started)}`);
  }, everyMs);
  try {
    const ldflags = ['-s', '-w', ...(tool.ldflags ?? [])].join(' ');
    await run(
      'go',
      ['build', '-v', '-trimpath', `-ldflags=${ldflags}`, '-o', `${out}/`, ...packages],
      moduleDir,
      env,
      (line) => {
        if (/^[\w.~-]+(\/[\w.~+-]+)*$/.test(line)) compiled++;
        tail.push(line);
        if (tail.length > 40) tail.shift();
      },
    ).catch((err: Error) => {
      throw new TrellisError(
        tool.codes.build,
        `go build of ${names.join(', ')} failed in ${moduleDir}:\n${tail.join('\n')}`,
        { cause: err },
      );
    });
  } finally {
    clearInterval(ticker);
  }
}

/** Lists the packages to build (downloading modules on the way, with a progress line now and then). */
async function countPackages(
  moduleDir: string,
  packages: string[],
  env: NodeJS.ProcessEnv,
  say: (line: string) => void,
): Promise<number> {
  let count = 0;
  let downloads = 0;
  let lastSaid = Date.now();
  await run('go', ['list', '-deps', ...packages], moduleDir, env, (line) => {
    if (line.startsWith('go: downloading')) {
      downloads++;
      if (Date.now() - lastSaid > 10_000) {
        say(`downloading Go modules: ${downloads} so far`);
        lastSaid = Date.now();
      }
    } else if (!line.startsWith('go:')) count++;
  }).catch(() => undefined);
  if (downloads) say(`downloaded ${downloads} Go modules`);
  return count;
}

function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  onLine: (line: string) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const split = (stream: NodeJS.ReadableStream) => {
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          onLine(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      });
      stream.on('end', () => buf && onLine(buf));
    };
    split(child.stdout);
    split(child.stderr);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args[0]} exited with ${code}`))));
  });
}

function elapsed(since: number): string {
  const s = Math.round((Date.now() - since) / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** Takes a lock file; waits while a live process holds it; takes over from a dead one. */
async function lock(file: string, say?: (line: string) => void): Promise<() => Promise<void>> {
  let announced = false;
  for (;;) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (!holder || !alive(holder)) {
        await rm(file, { force: true });
        continue;
      }
      if (!announced) say?.(`waiting for another build of the same binaries (pid ${holder})`);
      announced = true;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
