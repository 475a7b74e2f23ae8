/**
 * The suite runs CUE on the native engine: before any test, the evaluator is found or built (into
 * the same cache as the control plane's binaries, progress printed), so every `new CueEngine()` of
 * a test — `auto` by default — finds it. A build that fails fails the run: the suite must not
 * quietly fall back to the wasm engine.
 */
import { findEvaluator } from '../../cue/native/binary.js';
import { userCacheDir } from '../../lib/paths.js';

const log = (line: string) => process.stderr.write(`[cue] ${line}\n`);

export async function prepareCueEvaluator(env: NodeJS.ProcessEnv): Promise<void> {
  const found = await findEvaluator({
    cacheDir: userCacheDir(env),
    env,
    onProgress: log,
    ...(env.TRELLIS_CUE_BIN ? { binary: env.TRELLIS_CUE_BIN } : {}),
  });
  log(`native evaluator (cuelang.org/go ${found.version}): ${found.how}`);
}
