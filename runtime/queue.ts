/** Per-key exponential backoff for failed keys. */
export interface BackoffOptions {
  /** Delay after the first failure. @default 100 */
  initialMs?: number;
  /** Upper bound. @default 300000 (5 minutes) */
  maxMs?: number;
}

export interface WorkQueueOptions {
  backoff?: BackoffOptions;
  /** Called whenever the number of waiting keys changes (for a queue-depth gauge). */
  onDepth?: (depth: number) => void;
}

/**
 * A work queue of string keys with the semantics of client-go's workqueue:
 *
 * - **dedup**: a key added while already waiting is queued once;
 * - **one at a time**: a key handed out by {@link get} is not handed out again until {@link done};
 *   adds in between are remembered and it is queued again at `done`;
 * - **delays and backoff**: {@link addAfter} (the earliest pending delay per key wins) and
 *   {@link addRateLimited} (exponential per key, reset by {@link forget}).
 *
 * @example
 *   const q = new WorkQueue()
 *   q.add('ns/web')
 *   const key = await q.get()        // undefined once shut down
 *   try { ...; q.forget(key) } catch { q.addRateLimited(key) } finally { q.done(key) }
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private readonly initialMs: number;
  private readonly maxMs: number;
  private shuttingDown = false;

  constructor(private readonly options: WorkQueueOptions = {}) {
    this.initialMs = options.backoff?.initialMs ?? 100;
    this.maxMs = options.backoff?.maxMs ?? 300_000;
  }

  /** Keys waiting to be handed out (not counting those being processed or delayed). */
  get length(): number {
    return this.queue.length;
  }

  /** Keys handed out and not yet `done`. */
  get active(): number {
    return this.processing.size;
  }

  get isShutDown(): boolean {
    return this.shuttingDown;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
      return;
    }
    this.queue.push(key);
    this.options.onDepth?.(this.queue.length);
  }

  /** Adds `key` after `ms`. If the key already waits for an earlier time, that one stands. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = Date.now() + ms;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  /** Adds `key` after its next backoff delay: `initialMs * 2^failures`, capped at `maxMs`. */
  addRateLimited(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = Math.min(this.maxMs, this.initialMs * 2 ** n);
    this.addAfter(key, delay);
    return delay;
  }

  /** How many consecutive failures `key` has had since it was last forgotten. */
  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Resets the key's backoff (after a success or a terminal failure). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** The next key; waits until there is one. Resolves `undefined` once the queue is shut down. */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      this.options.onDepth?.(this.queue.length);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks `key` finished; if it was added meanwhile it is queued again. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  /** Stops handing out keys: pending `get`s resolve `undefined`, delayed adds are dropped. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }
}
