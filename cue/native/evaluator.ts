/**
 * The native engine: one long-lived `trellis-cue` process (cuelang.org/go, cue/native/go) serving
 * every evaluation of this engine over its stdin/stdout, one JSON object per line each way. The
 * process compiles each distinct template once per worker goroutine (by content hash) and evaluates
 * on all cores; here requests are written as they come (at most `maxInFlight` outstanding) and
 * answers matched by id.
 *
 * A template's source is sent once per process; the process answers `missing` when it no longer
 * has it, and the request goes again with the source.
 *
 * Failures: a process that exits or stops answering for `timeoutMs` while work is outstanding is
 * killed and replaced. What it owed is retried, each one alone ("suspects", one at a time, nothing
 * else in flight), so a template that crashes or hangs CUE fails by itself with TRL_CUE_ENGINE and
 * the rest succeed. A process that fails before its first line (`hello`) counts as a start failure;
 * after `maxStartFailures` in a row the engine gives up and every call fails with why.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import type { LogSink } from '../../lib/log-sink.js';
import type { BackendStats, CueBackend, CueFiles, EvalResult, OpenApiResult, ProcessUsage } from '../backend.js';
import type { CueJob } from '../batch.js';
import { CueError, type CueIssue } from '../errors.js';
import { deepFreeze } from '../lru.js';

export interface NativeEvaluatorOptions {
  /** The `trellis-cue` binary (see binary.ts). */
  binary: string;
  /** The CUE release it runs, as it said (`-version`). */
  version: string;
  /** Goroutines evaluating at once. @default all cores (Go's GOMAXPROCS) */
  workers?: number;
  /** No answer for this long while work is outstanding: the process is hung, and is replaced. @default 120000 */
  timeoutMs?: number;
  /** Processes failing in a row before their first line, after which the engine gives up. @default 3 */
  maxStartFailures?: number;
  /** Requests written and not yet answered, at most. @default 256 */
  maxInFlight?: number;
  /** Go's soft memory limit for the process (GOMEMLIMIT), in MiB. @default none */
  memoryLimitMiB?: number;
  /** How long {@link NativeEvaluator.started} waits for the process's first line. @default 30000 */
  helloTimeoutMs?: number;
  /** More arguments for the process (tests inject faults: `-test-exit-on=<key>`, `-test-hang-on=<key>`). */
  args?: string[];
  logger: LogSink;
  stats: BackendStats;
}

/** One line the process writes. */
interface Answer {
  id: number;
  ok: boolean;
  value?: Record<string, unknown>;
  doc?: Record<string, unknown>;
  scope?: 'template' | 'instance' | 'engine';
  issues?: CueIssue[];
  missing?: boolean;
  hello?: { cue: string; workers: number };
}

interface Request {
  op: 'eval' | 'vet' | 'openapi';
  payload: Record<string, unknown>;
  /** eval: the template's hash and source, and the inputs' JSON (`[parameter, context, fields]`), sent as is. */
  key?: string;
  template?: string;
  inputs?: string;
  /** Was outstanding when a process was lost: is retried alone, and fails if it is lost again. */
  suspect: boolean;
  settle(answer: Answer | CueError): void;
}

interface Proc {
  child: ChildProcessWithoutNullStreams;
  pending: Map<number, Request>;
  /** Template keys whose source this process has been sent. */
  sent: Set<string>;
  /** Lines not yet written: everything sent in one turn of the event loop goes in one write. */
  outbox: string[];
  /** When it last answered, or was sent work while it had none outstanding (Date.now()). */
  progressAt: number;
  /** It keeps Node's event loop alive (ref'd). */
  referenced: boolean;
  /** It wrote its hello line. */
  started: boolean;
  /** Settles {@link NativeEvaluator.started}: the hello's CUE release, or why it ended before. */
  hello: { resolve(version: string): void; reject(err: Error): void }[];
  gone: boolean;
  /** Why we killed it, when we did. */
  killedBecause?: string;
  stderr: string;
  partial: string;
}

export class NativeEvaluator implements CueBackend {
  readonly name = 'native';
  readonly version: string;
  private readonly options: NativeEvaluatorOptions;
  private readonly log: LogSink;
  private readonly stats: BackendStats;
  private readonly timeoutMs: number;
  private readonly maxInFlight: number;
  private readonly maxStartFailures: number;
  private proc?: Proc;
  private readonly queue: Request[] = [];
  private readonly suspects: Request[] = [];
  private nextId = 1;
  private watchdog?: NodeJS.Timeout;
  private startFailures = 0;
  private stopped = false;
  private broken?: CueError;

  constructor(options: NativeEvaluatorOptions) {
    this.options = options;
    this.version = options.version;
    this.log = options.logger;
    this.stats = options.stats;
    this.timeoutMs = options.timeoutMs ?? 120000;
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 256);
    this.maxStartFailures = Math.max(1, options.maxStartFailures ?? 3);
  }

  /** The running process's id (none before the first request, or between a loss and the next request). */
  get pid(): number | undefined {
    return this.proc?.child.pid;
  }

  /**
   * CPU and memory of the running process, read from /proc (Linux; `undefined` elsewhere, and while
   * no process runs). CPU counts this process only, not ones it replaced.
   */
  async usage(): Promise<ProcessUsage | undefined> {
    const pid = this.pid;
    if (!pid) return undefined;
    try {
      const [stat, status] = await Promise.all([
        readFile(`/proc/${pid}/stat`, 'utf8'),
        readFile(`/proc/${pid}/status`, 'utf8'),
      ]);
      // Fields after the command name (which may hold spaces): state is 3rd, utime 14th, stime 15th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      const rssKiB = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
      return { pid, cpuMs: ticks * CLOCK_TICK_MS, rssBytes: rssKiB * 1024 };
    } catch {
      return undefined;
    }
  }

  /**
   * Starts the process now, when none runs, and resolves with the CUE release its first line (the
   * hello) names: proof that the binary runs and is our evaluator, with no separate `-version` run.
   * Rejects with why when the process ends, or writes nothing for `helloTimeoutMs`, before that line.
   * A started process waiting for work does not keep Node's event loop alive.
   */
  started(): Promise<string> {
    if (this.broken) return Promise.reject(new Error(this.broken.message));
    if (this.stopped) return Promise.reject(new Error('the CUE engine was stopped'));
    const proc = this.proc ?? this.start();
    this.busy(proc);
    const timeoutMs = this.options.helloTimeoutMs ?? 30_000;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.killedBecause = `the CUE evaluator wrote nothing within ${timeoutMs} ms of starting`;
        proc.child.kill('SIGKILL');
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        if (!proc.gone && !proc.pending.size && !this.queue.length) this.idle(proc);
      };
      proc.hello.push({
        resolve: (version) => (done(), resolve(version)),
        reject: (err) => (done(), reject(err)),
      });
      if (proc.started) proc.hello.splice(0).forEach((h) => h.resolve(this.version));
    });
  }

  async evaluate(job: CueJob, templateKey: string, inputs?: string): Promise<EvalResult> {
    inputs ??= JSON.stringify([job.parameter ?? {}, job.context ?? {}, job.fields]);
    const answer = await this.request({ op: 'eval', payload: {}, key: templateKey, template: job.template, inputs });
    if (answer instanceof CueError) return { ok: false, error: answer };
    if (answer.ok) {
      this.stats.evaluated++;
      return { ok: true, value: deepFreeze(answer.value ?? {}) };
    }
    const scope = answer.scope ?? 'engine';
    const lines = job.template.split('\n').length;
    // Positions in the template only (not in the JSON of the inputs); an error at the end of the file points past it.
    const issues = (answer.issues ?? []).map((i) => ({
      ...i,
      positions: i.positions.filter((p) => p.file === 'template').map((p) => ({ ...p, line: Math.min(p.line, lines) })),
    }));
    return { ok: false, error: new CueError(scope, issues) };
  }

  async vet(files: CueFiles): Promise<CueIssue[]> {
    const answer = await this.request({ op: 'vet', payload: { files } });
    if (answer instanceof CueError) throw answer;
    if (answer.scope === 'engine') throw new CueError('engine', answer.issues ?? []);
    return answer.ok ? [] : (answer.issues ?? []);
  }

  async openapi(files: CueFiles): Promise<OpenApiResult> {
    const answer = await this.request({ op: 'openapi', payload: { files } });
    if (answer instanceof CueError) throw answer;
    if (answer.scope === 'engine') throw new CueError('engine', answer.issues ?? []);
    return answer.ok ? { ok: true, doc: answer.doc ?? {} } : { ok: false, issues: answer.issues ?? [] };
  }

  /** Ends the process. Outstanding requests fail with scope `engine`. */
  async stop(): Promise<void> {
    this.stopped = true;
    const stopped = engineError('the CUE engine was stopped');
    for (const r of [...this.queue.splice(0), ...this.suspects.splice(0)]) r.settle(stopped);
    const proc = this.proc;
    if (!proc) return;
    const exited = new Promise<void>((resolve) => (proc.gone ? resolve() : proc.child.once('exit', () => resolve())));
    this.busy(proc); // an awaited stop() must not find the event loop empty
    this.flush(proc);
    // End of input ends the process once it answered what it was sent (nothing, here); a process
    // that does not go within a second is killed.
    proc.child.stdin.end();
    const kill = setTimeout(() => proc.child.kill('SIGKILL'), 1000);
    await exited;
    clearTimeout(kill);
  }

  private request(r: Omit<Request, 'suspect' | 'settle'>): Promise<Answer | CueError> {
    if (this.broken) return Promise.resolve(this.broken);
    if (this.stopped) return Promise.resolve(engineError('the CUE engine was stopped'));
    return new Promise((settle) => {
      this.queue.push({ ...r, suspect: false, settle });
      this.pump();
    });
  }

  /** Writes what may be written now: suspects one at a time and alone, else the queue up to maxInFlight. */
  private pump(): void {
    if (this.stopped || this.broken) return;
    if (!this.queue.length && !this.suspects.length) {
      if (this.proc && !this.proc.pending.size) this.idle(this.proc);
      return;
    }
    const proc = this.proc ?? this.start();
    this.busy(proc);
    if (this.suspects.length) {
      if (!proc.pending.size) this.send(proc, this.suspects.shift()!);
      return;
    }
    while (this.queue.length && proc.pending.size < this.maxInFlight) this.send(proc, this.queue.shift()!);
  }

  private send(proc: Proc, r: Request): void {
    const id = this.nextId++;
    let line: string;
    if (r.key && r.inputs !== undefined) {
      // Built by hand: the inputs are JSON already (the engine's cache key), and the template's
      // source goes only the first time this process meets it.
      const template = proc.sent.has(r.key) ? '' : `,"template":${JSON.stringify(r.template)}`;
      proc.sent.add(r.key);
      line = `{"id":${id},"op":"eval","key":"${r.key}"${template},"inputs":${r.inputs}}\n`;
    } else line = `${JSON.stringify({ id, op: r.op, ...r.payload })}\n`;
    if (!proc.pending.size) proc.progressAt = Date.now();
    proc.pending.set(id, r);
    if (proc.outbox.push(line) === 1) setImmediate(() => this.flush(proc));
    if (!this.watchdog) this.arm(proc);
  }

  /** Writes the lines sent in this turn of the event loop at once. */
  private flush(proc: Proc): void {
    if (!proc.outbox.length) return;
    const text = proc.outbox.length === 1 ? proc.outbox[0] : proc.outbox.join('');
    proc.outbox.length = 0;
    if (!proc.gone) proc.child.stdin.write(text);
  }

  private start(): Proc {
    const args = [...(this.options.workers ? [`-workers=${this.options.workers}`] : []), ...(this.options.args ?? [])];
    // Nothing of our environment: the evaluator needs none, and a template must not see any.
    const env: NodeJS.ProcessEnv = this.options.memoryLimitMiB
      ? { GOMEMLIMIT: `${this.options.memoryLimitMiB}MiB` }
      : {};
    const child = spawn(this.options.binary, args, { cwd: '/', env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.stats.invocations++;
    const proc: Proc = {
      child,
      pending: new Map(),
      sent: new Set(),
      outbox: [],
      progressAt: Date.now(),
      referenced: true,
      started: false,
      hello: [],
      gone: false,
      stderr: '',
      partial: '',
    };
    this.proc = proc;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const text = proc.partial + chunk;
      const lines = text.split('\n');
      proc.partial = lines.pop()!;
      for (const line of lines) if (line) this.answer(proc, line);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (proc.stderr = (proc.stderr + chunk).slice(-4000)));
    child.stdin.on('error', () => {}); // a dead process: its exit says why
    child.on('error', (err) => this.lost(proc, `the CUE evaluator could not be started: ${err.message}`));
    child.on('exit', (code, signal) =>
      this.lost(proc, proc.killedBecause ?? `the CUE evaluator exited (${signal ?? `code ${code}`})`),
    );
    return proc;
  }

  private answer(proc: Proc, line: string): void {
    let answer: Answer;
    try {
      answer = JSON.parse(line) as Answer;
    } catch {
      proc.killedBecause = `the CUE evaluator wrote something unreadable: ${line.slice(0, 200)}`;
      proc.child.kill('SIGKILL');
      return;
    }
    if (answer.hello) {
      proc.started = true;
      this.startFailures = 0;
      for (const h of proc.hello.splice(0)) h.resolve(answer.hello.cue);
      return;
    }
    const r = proc.pending.get(answer.id);
    if (!r) return;
    proc.pending.delete(answer.id);
    proc.progressAt = Date.now();
    if (!proc.pending.size) this.disarm(); // an idle evaluator keeps no timer
    if (answer.missing && r.key) {
      proc.sent.delete(r.key);
      (r.suspect ? this.suspects : this.queue).unshift(r);
    } else r.settle(answer);
    this.pump();
  }

  /** The process is gone (exited, killed, or never started): replace it and retry what it owed. */
  private lost(proc: Proc, why: string): void {
    if (proc.gone) return;
    proc.gone = true;
    if (this.proc === proc) this.proc = undefined;
    this.disarm();
    const owed = [...proc.pending.values()];
    proc.pending.clear();
    proc.outbox.length = 0;
    const detail = `${why}${proc.stderr.trim() ? `: ${lastLines(proc.stderr)}` : ''}`;
    for (const h of proc.hello.splice(0)) h.reject(new Error(detail));
    if (this.stopped) return owed.forEach((r) => r.settle(engineError('the CUE engine was stopped')));
    if (!proc.started) {
      if (++this.startFailures >= this.maxStartFailures) return this.giveUp(detail, owed);
      if (!owed.length && !this.queue.length) return; // only started(): its caller hears why
      this.log.error({ attempt: this.startFailures }, `${detail} before answering; starting another`);
      this.queue.unshift(...owed);
      return this.pump();
    }
    this.stats.restarts++;
    if (owed.length)
      this.log.error(
        { jobs: owed.length },
        `${detail}; starting another and retrying each of its ${owed.length} requests alone`,
      );
    for (const r of owed) {
      if (r.suspect) r.settle(engineError(`${detail} (on this request, run alone after an earlier failure)`));
      else {
        r.suspect = true;
        this.suspects.push(r);
      }
    }
    this.pump();
  }

  private giveUp(why: string, owed: Request[]): void {
    const message = `the native CUE evaluator could not be started (${this.startFailures} attempts failed in a row, each before answering): ${why}`;
    this.log.error({ attempts: this.startFailures }, message);
    this.broken = engineError(message);
    for (const r of [...owed, ...this.queue.splice(0), ...this.suspects.splice(0)]) r.settle(this.broken);
  }

  /**
   * One timer while work is outstanding (not one per answer): when it fires, the process is hung
   * if nothing was answered for `timeoutMs`; otherwise it waits for what is left of that.
   */
  private arm(proc: Proc, ms = this.timeoutMs): void {
    this.watchdog = setTimeout(() => {
      this.watchdog = undefined;
      if (proc.gone || !proc.pending.size) return;
      const quiet = Date.now() - proc.progressAt;
      if (quiet < this.timeoutMs) return this.arm(proc, this.timeoutMs - quiet);
      proc.killedBecause = `the CUE evaluator did not answer within ${this.timeoutMs} ms`;
      this.log.warn({ outstanding: proc.pending.size }, `${proc.killedBecause}; replacing it`);
      proc.child.kill('SIGKILL');
    }, ms);
  }

  private disarm(): void {
    clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  /** An idle evaluator does not keep the process alive; a busy one does. */
  private idle(proc: Proc): void {
    if (!proc.referenced) return;
    proc.referenced = false;
    proc.child.unref();
    for (const stream of streams(proc)) stream.unref();
  }

  private busy(proc: Proc): void {
    if (proc.referenced) return;
    proc.referenced = true;
    proc.child.ref();
    for (const stream of streams(proc)) stream.ref();
  }
}

/** Linux's USER_HZ: /proc reports CPU time in hundredths of a second on every architecture Node runs on. */
const CLOCK_TICK_MS = 10;

function engineError(message: string): CueError {
  return new CueError('engine', [{ path: [], message, positions: [] }]);
}

/** The process's pipes, which keep Node's event loop alive like the process itself. */
function streams(proc: Proc): Socket[] {
  return [proc.child.stdin, proc.child.stdout, proc.child.stderr] as unknown as Socket[];
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-5).join(' | ');
}
