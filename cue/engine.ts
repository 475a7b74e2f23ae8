/**
 * The one place CUE runs. Evaluations are queued, batched into one `cue export` per worker thread,
 * and cached by the hash of what they depend on, so the CLI, the webhooks and the controllers can all
 * call {@link CueEngine.evaluate} freely.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { TrellisError } from '../lib/errors.js';
import { silentLogger, type Logger } from '../lib/log.js';
import { attribute, buildBatch, BATCH_DIR, type CueInvocation, type CueJob } from './batch.js';
import { checkInvocation, checkIssues } from './check.js';
import { CueError, describeIssues, parseCueErrors } from './errors.js';
import { startCueWorker, type CueOutcome, type WorkerJob } from './worker.js';
import { schemaSource, openApiToJsonSchema, type JsonSchema } from './schema.js';
import { deepFreeze, Lru } from './lru.js';

export type { CueJob } from './batch.js';
export { CueError, describeIssues, type CueIssue } from './errors.js';

export interface CueEngineOptions {
  /** Worker threads running CUE. @default min(2, available CPUs) */
  workers?: number;
  /** Most evaluations in one `cue export`. @default 400 */
  maxBatch?: number;
  /** Results kept (successes and deterministic failures), least recently used dropped first. @default 20000 */
  cacheSize?: number;
  /** A `cue` run taking longer is stopped (its worker replaced) and its evaluations retried one by one. @default 120000 */
  timeoutMs?: number;
  /**
   * Workers failing in a row before answering anything, after which the engine gives up: everything
   * pending and every later call rejects with `TRL_CUE_ENGINE` (a worker that cannot load would
   * otherwise be restarted forever). @default 3
   */
  maxStartFailures?: number;
  /**
   * `GOGC` inside the CUE runs (each is a Go runtime that lives for one batch); a run out of memory
   * is run again with Go's collector. `undefined` for Go's default. @default 'off'
   */
  goGC?: string;
  /** Starts one worker thread. Tests pass one that cannot load. @default startCueWorker with `goGC` */
  startWorker?: () => Worker;
  logger?: Logger;
}

export interface CueEngineStats {
  /** `cue` processes run (each costs the ~150 ms start of the Go runtime). */
  invocations: number;
  /** Evaluations CUE performed. */
  evaluated: number;
  /** Evaluations answered from the cache or by joining an identical one in flight. */
  cacheHits: number;
  /** Runs that ran out of memory without collection and were run again with it. */
  collectedReruns: number;
}

type Result = { ok: true; value: Record<string, unknown> } | { ok: false; error: CueError };

interface Pending {
  job: CueJob;
  key: string;
  settle: (result: Result) => void;
}

interface Slot {
  worker: Worker;
  busy: boolean;
  /** What the worker was sent and has not answered yet, by message id. */
  replies: Map<number, { job: WorkerJob; reply: (outcome: CueOutcome) => void }>;
}

/**
 * Runs CUE templates. Workers start on first use and are stopped by {@link stop}; an idle engine
 * does not keep the process alive.
 *
 * @example
 *   const engine = new CueEngine()
 *   const { output } = await engine.evaluate({ template, parameter: { replicas: 3 }, context: { name: 'web' }, fields: ['output'] })
 *   await engine.stop()
 */
export class CueEngine {
  private readonly size: number;
  private readonly maxBatch: number;
  private readonly cacheSize: number;
  private readonly timeoutMs: number;
  private readonly log: Logger;
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private readonly cache: Lru<string, Result>;
  private readonly inflight = new Map<string, Promise<Result>>();
  private readonly templateHashes = new Map<string, string>();
  private scheduled = false;
  private nextId = 1;
  private stopped = false;
  private readonly maxStartFailures: number;
  private readonly startWorker: () => Worker;
  /** Workers that failed in a row before answering anything. */
  private startFailures = 0;
  /** Set once workers cannot be started: the answer to every call from then on. */
  private broken?: CueError;
  readonly stats: CueEngineStats = { invocations: 0, evaluated: 0, cacheHits: 0, collectedReruns: 0 };

  constructor(options: CueEngineOptions = {}) {
    this.size = Math.max(1, options.workers ?? Math.min(2, availableParallelism()));
    this.maxBatch = Math.max(1, options.maxBatch ?? 400);
    this.cacheSize = Math.max(0, options.cacheSize ?? 20000);
    this.cache = new Lru(this.cacheSize);
    this.timeoutMs = options.timeoutMs ?? 120000;
    this.log = options.logger ?? silentLogger;
    this.maxStartFailures = Math.max(1, options.maxStartFailures ?? 3);
    const workerOptions = 'goGC' in options ? { goGC: options.goGC } : {};
    this.startWorker = options.startWorker ?? (() => startCueWorker(workerOptions));
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
    const outcome = await this.run(checkInvocation(template));
    if (outcome.code < 0) throw new CueError('engine', [{ path: [], message: outcome.stderr, positions: [] }]);
    if (outcome.code === 0) return;
    const issues = checkIssues(template, parseCueErrors(outcome.stderr));
    // Every complaint came from the closed copy and none is about `parameter`: the template is fine.
    if (!issues.length && outcome.stderr.trim()) return;
    throw new CueError('template', issues);
  }

  /**
   * The JSON Schema of a template's `parameter`, derived by CUE's OpenAPI generator. A template
   * without `parameter` takes nothing: `{ type: 'object', properties: {} }`. When CUE cannot express
   * the parameter as a schema, this rejects with `TRL_CUE_SCHEMA` (never a permissive stand-in: a
   * caller validating properties must know it has no schema); when CUE does not answer, with
   * {@link CueError} of scope `engine`.
   */
  async parameterSchema(template: string): Promise<JsonSchema> {
    const path = `${BATCH_DIR}/schema.cue`;
    const source = schemaSource(template);
    if (!source) return { type: 'object', properties: {} };
    const outcome = await this.run({ command: 'def', args: [path], flags: { '--out': 'openapi' }, files: [{ path, text: source }] });
    if (outcome.code < 0) throw new CueError('engine', [{ path: [], message: outcome.stderr, positions: [] }]);
    if (outcome.code !== 0) {
      // Positions are lines of the generated schema file, not of the template: left out.
      const issues = parseCueErrors(outcome.stderr).map((i) => ({ ...i, positions: [] }));
      throw new TrellisError('TRL_CUE_SCHEMA', `no JSON Schema of the template's parameter can be derived: ${describeIssues(issues)}`);
    }
    const schema = openApiToJsonSchema(JSON.parse(outcome.stdout) as Record<string, unknown>);
    if (!schema) throw new TrellisError('TRL_CUE_SCHEMA', "no JSON Schema of the template's parameter can be derived: CUE's OpenAPI output does not describe it");
    return schema;
  }

  /** Terminates the workers. Pending evaluations fail. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const p of this.queue.splice(0)) p.settle({ ok: false, error: new CueError('engine', [{ path: [], message: 'the CUE engine was stopped', positions: [] }]) });
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }

  private resolve(job: CueJob): Promise<Result> {
    if (this.broken) return Promise.resolve({ ok: false, error: this.broken });
    const key = this.keyOf(job);
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
    const promise = new Promise<Result>((settle) => {
      this.queue.push({ job, key, settle });
      this.schedule();
    }).then((result) => {
      this.inflight.delete(key);
      this.remember(key, result);
      return result;
    });
    this.inflight.set(key, promise);
    return promise;
  }

  /** Template hash + the inputs as JSON (hashed too when long, to bound the cache's memory). */
  private keyOf(job: CueJob): string {
    let t = this.templateHashes.get(job.template);
    if (!t) {
      if (this.templateHashes.size > 2000) this.templateHashes.clear();
      t = createHash('sha256').update(job.template).digest('hex');
      this.templateHashes.set(job.template, t);
    }
    const inputs = JSON.stringify([job.parameter ?? {}, job.context ?? {}, job.fields]);
    return `${t}\0${inputs.length > 512 ? createHash('sha256').update(inputs).digest('hex') : inputs}`;
  }

  private remember(key: string, result: Result): void {
    if (!result.ok && result.error.scope === 'engine') return;
    this.cache.set(key, result);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // setImmediate: evaluations requested in the same turn land in one batch.
    setImmediate(() => {
      this.scheduled = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    if (this.stopped || this.broken) return;
    while (this.slots.length < this.size && this.queue.length > this.slots.filter((s) => !s.busy).length * this.maxBatch) this.spawn();
    if (!this.slots.length && this.queue.length) this.spawn();
    const idle = this.slots.filter((s) => !s.busy);
    for (let n = idle.length; n > 0 && this.queue.length; n--) {
      const slot = idle[idle.length - n];
      const take = Math.min(this.maxBatch, Math.ceil(this.queue.length / n));
      const items = this.queue.splice(0, take);
      slot.busy = true;
      slot.worker.ref();
      this.evaluateBatch(slot, items)
        .catch((err: unknown) => {
          const error = new CueError('engine', [{ path: [], message: String((err as Error)?.message ?? err), positions: [] }]);
          for (const p of items) p.settle({ ok: false, error });
        })
        .finally(() => {
          slot.busy = false;
          if (!this.queue.length) slot.worker.unref();
          this.dispatch();
        });
    }
  }

  private spawn(): Slot {
    const slot = { busy: false, replies: new Map() } as unknown as Slot;
    this.attach(slot);
    this.slots.push(slot);
    return slot;
  }

  /**
   * Gives a slot a fresh worker. What the old one still owed is answered as a failure, or, when
   * `resend` (it failed before answering anything, so nothing ran), sent again to the new one.
   */
  private attach(slot: Slot, resend = false): void {
    if (slot.worker) {
      slot.worker.removeAllListeners();
      void slot.worker.terminate();
      if (!resend) failReplies(slot, 'CUE worker was replaced');
    }
    const worker = this.startWorker();
    let answered = false;
    let gone = false;
    worker.on('message', (msg: CueOutcome & { id: number }) => {
      answered = true;
      this.startFailures = 0;
      const pending = slot.replies.get(msg.id);
      slot.replies.delete(msg.id);
      pending?.reply(msg);
    });
    const lost = (why: string, err?: Error) => {
      if (gone) return;
      gone = true;
      if (this.stopped || slot.worker !== worker) return failReplies(slot, why);
      if (answered) {
        this.log.error({ err }, `${why}; starting another`);
        failReplies(slot, why);
        return this.attach(slot);
      }
      if (++this.startFailures >= this.maxStartFailures) return this.giveUp(why);
      this.log.error({ err, attempt: this.startFailures }, `${why} before answering; starting another`);
      this.attach(slot, true);
    };
    worker.on('error', (err) => lost(`CUE worker failed: ${err.message}`, err));
    // An exit we did not ask for (listeners are removed before we terminate a worker ourselves).
    worker.on('exit', (code) => lost(`CUE worker exited with code ${code}`));
    if (!slot.busy) worker.unref();
    slot.worker = worker;
    if (resend) for (const { job } of slot.replies.values()) worker.postMessage(job);
  }

  /** Workers cannot be started: fail what is pending and answer every later call with why. */
  private giveUp(why: string): void {
    const message = `no CUE worker could be started (${this.startFailures} failed in a row, each before answering): ${why}`;
    this.log.error({ attempts: this.startFailures }, message);
    this.broken = new CueError('engine', [{ path: [], message, positions: [] }]);
    for (const p of this.queue.splice(0)) p.settle({ ok: false, error: this.broken });
    for (const slot of this.slots.splice(0)) {
      slot.worker.removeAllListeners();
      void slot.worker.terminate();
      failReplies(slot, message);
    }
  }

  /** Evaluates items on one worker; failing ones are set aside and the rest re-run, until all are settled. */
  private async evaluateBatch(slot: Slot, items: Pending[]): Promise<void> {
    let rest = items;
    while (rest.length) {
      const batch = buildBatch(rest.map((p) => p.job));
      const outcome = await this.invoke(slot, batch.invocation, rest.length);
      if (outcome.code === 0) {
        const values = JSON.parse(outcome.stdout) as Record<string, Record<string, unknown>>;
        this.stats.evaluated += rest.length;
        rest.forEach((p, i) => p.settle({ ok: true, value: deepFreeze(values[`r${i}`] ?? {}) }));
        return;
      }
      if (outcome.code < 0) {
        if (this.broken) return rest.forEach((p) => p.settle({ ok: false, error: this.broken! }));
        // Timed out or the worker died: nothing to learn from the output; isolate the culprit by running each alone.
        if (rest.length === 1) return rest[0].settle({ ok: false, error: new CueError('engine', [{ path: [], message: outcome.stderr, positions: [] }]) });
        for (const p of rest) await this.evaluateBatch(slot, [p]);
        return;
      }
      const issues = parseCueErrors(outcome.stderr);
      const { jobs, templates } = attribute(batch, issues);
      const failed = new Set<number>();
      rest.forEach((p, i) => {
        const k = batch.templateOf[i];
        const mine = templates.get(k);
        if (mine) {
          failed.add(i);
          p.settle({ ok: false, error: new CueError('template', mine) });
        } else if (jobs.has(i)) {
          failed.add(i);
          p.settle({ ok: false, error: new CueError('instance', jobs.get(i)!) });
        }
      });
      if (!failed.size) {
        if (rest.length === 1) return rest[0].settle({ ok: false, error: new CueError('instance', issues.length ? issues : [{ path: [], message: outcome.stderr.trim(), positions: [] }]) });
        const half = Math.ceil(rest.length / 2);
        await this.evaluateBatch(slot, rest.slice(0, half));
        rest = rest.slice(half);
        continue;
      }
      rest = rest.filter((_p, i) => !failed.has(i));
    }
  }

  private async run(invocation: CueInvocation): Promise<CueOutcome> {
    if (this.broken) throw this.broken;
    if (this.stopped) throw new CueError('engine', [{ path: [], message: 'the CUE engine was stopped', positions: [] }]);
    // One-off commands wait for a free worker like a batch would.
    return new Promise<CueOutcome>((resolve, reject) => {
      const attempt = () => {
        if (this.broken) return reject(this.broken);
        if (this.stopped) return reject(new CueError('engine', [{ path: [], message: 'the CUE engine was stopped', positions: [] }]));
        const slot = this.slots.find((s) => !s.busy) ?? (this.slots.length < this.size ? this.spawn() : undefined);
        if (!slot) return void setTimeout(attempt, 5);
        slot.busy = true;
        slot.worker.ref();
        this.invoke(slot, invocation, 1)
          .then(resolve, reject)
          .finally(() => {
            slot.busy = false;
            if (!this.queue.length) slot.worker.unref();
            this.dispatch();
          });
      };
      attempt();
    });
  }

  private invoke(slot: Slot, invocation: CueInvocation, jobs: number): Promise<CueOutcome> {
    if (this.broken) return Promise.resolve({ code: -1, stdout: '', stderr: this.broken.message });
    this.stats.invocations++;
    const id = this.nextId++;
    const started = Date.now();
    return new Promise<CueOutcome>((resolve) => {
      const timer = setTimeout(() => {
        slot.replies.delete(id);
        this.log.warn({ jobs, ms: Date.now() - started }, 'CUE run timed out; replacing its worker');
        this.attach(slot);
        resolve({ code: -2, stdout: '', stderr: `CUE did not finish within ${this.timeoutMs} ms` });
      }, this.timeoutMs);
      const job: WorkerJob = { ...invocation, id };
      slot.replies.set(id, {
        job,
        reply: (outcome) => {
          clearTimeout(timer);
          this.log.debug({ jobs, ms: Date.now() - started, code: outcome.code }, 'CUE run');
          if (outcome.collected) {
            this.stats.collectedReruns++;
            this.log.warn({ jobs }, 'a CUE run ran out of memory without garbage collection; it was run again with the collector');
          }
          resolve(outcome);
        },
      });
      slot.worker.postMessage(job);
    });
  }
}

/** Answers everything a slot's worker owed as a failure. */
function failReplies(slot: Slot, why: string): void {
  const pending = [...slot.replies.values()];
  slot.replies.clear();
  for (const { reply } of pending) reply({ code: -1, stdout: '', stderr: why });
}
