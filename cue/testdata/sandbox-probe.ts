// Evaluates a template that imports a CUE package from the host (a cue.mod in the working
// directory) on one engine's backend directly — past the engine's own import check, to show the
// engine's second line holds — and prints what happened as JSON. Run by sandbox.test.ts with its
// working directory set to such a module. Argument: native | wasm.
import { createHash } from 'node:crypto';
import { CueError } from '../errors.js';
import { findEvaluator } from '../native/binary.js';
import { NativeEvaluator } from '../native/evaluator.js';
import { WasmPool } from '../wasm/pool.js';
import { silentLogger } from '../../lib/log.js';
import { userCacheDir } from '../../lib/paths.js';

const stats = { invocations: 0, evaluated: 0, collectedReruns: 0, restarts: 0 };
const template = 'import "host.example/secret"\noutput: v: secret.value\n';
const backend =
  process.argv[2] === 'native'
    ? new NativeEvaluator({ ...(await findEvaluator({ cacheDir: userCacheDir(process.env) })), logger: silentLogger, stats })
    : new WasmPool({ workers: 1, logger: silentLogger, stats });
try {
  const result = await backend.evaluate({ template, fields: ['output'] }, createHash('sha256').update(template).digest('hex'));
  console.log(JSON.stringify(result.ok ? { ok: true, out: result.value } : { ok: false, message: (result.error as CueError).message }));
} finally {
  await backend.stop();
}
