/** Per-key exponential backoff for failed keys. */
export interface BackoffOptions {
  /** Delay after the first failure. @default 100 */
  initialMs?: number;
  /** Upper bound. @default 300000 (5 minutes) */
  maxMs?: number;
}

/** What a queue reports, as client-go's workqueue does (`workqueue_*` metrics). Hooks must not throw. */
export interface QueueMetrics {
  /** The number of waiting keys changed. */
  depth(n: number): void;
  /** A key was added that was not already waiting. */
  added(): void;
  /** A key was added again after a failure ({@link WorkQueue.addRateLimited}). */
  retried(): void;
  /** A key was handed out after waiting this long since it was added. */
  waited(seconds: number): void;
  /** A key was done, this long after it was handed out. */
  worked(seconds: number): void;
}

/** Which lane a key queues in: `low` keys are handed out only when no `normal` key waits (or after aging). */
export type Priority = 'normal' | 'low';

/**
 * When fresh (normal-priority) work was last added or finished. Queues sharing one (a manager's
 * controllers) hold their low-priority keys until no fresh work was seen in any of them for
 * `lowPriorityDelayMs`: the Component of an AppConfig applied after background work counts too.
 */
export class FreshWork {
  private last = -Infinity;

  /** Fresh work was added or finished now. */
  seen(now = performance.now()): void {
    this.last = now;
  }

  /** Milliseconds since fresh work was last seen. */
  idleFor(now = performance.now()): number {
    return now - this.last;
  }
}

export interface WorkQueueOptions {
  backoff?: BackoffOptions;
  /**
   * How long a key may wait in the low-priority lane while normal keys keep coming: after this it
   * is handed out before them (no key starves). @default 5000
   */
  lowPriorityMaxWaitMs?: number;
  /**
   * How long a low-priority key waits, after it was added and after fresh work was last seen
   * (`freshWork`), before it may be handed out at all, even with nothing else to do: objects applied
   * together with it (the rest of a `kubectl apply -f`, an AppConfig's Component) are fresh work
   * arriving a moment later, and background work already running would share the API server with
   * them. @default 0
   */
  lowPriorityDelayMs?: number;
  /** Where fresh work is recorded and looked at; share one between the queues of a process. @default this queue's own */
  freshWork?: FreshWork;
  /**
   * Low-priority keys handed out at once; with N workers, N - 1 keeps one free for fresh work.
   * @default unlimited
   */
  lowPriorityMaxActive?: number;
  /** @default none */
  metrics?: QueueMetrics;
}

/**
 * A work queue of string keys with the semantics of client-go's workqueue:
 *
 * - **dedup**: a key added while already waiting is queued once;
 * - **one at a time**: a key handed out by {@link get} is not handed out again until {@link done};
 *   adds in between are remembered and it is queued again at `done`;
 * - **delays and backoff**: {@link addAfter} (the earliest pending delay per key wins) and
 *   {@link addRateLimited} (exponential per key, reset by {@link forget});
 * - **two lanes** (like controller-runtime's priority queue): a key set to `low` priority with
 *   {@link setPriority} (an object known to wait on something outside it), or added by a `low` add
 *   (a periodic resync, which only looks), is background work: it
 *   is handed out only while no `normal` key waits or is being processed, so it cannot sit ahead
 *   of (or crowd) fresh work; one that has waited `lowPriorityMaxWaitMs` goes first all the same;
 *   none before it, and all fresh work (`freshWork`), have been still for `lowPriorityDelayMs`;
 *   at most `lowPriorityMaxActive` low keys are handed out at once.
 *
 * @example
 *   const q = new WorkQueue()
 *   q.add('ns/web')
 *   const key = await q.get()        // undefined once shut down
 *   try { ...; q.forget(key) } catch { q.addRateLimited(key) } finally { q.done(key) }
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  /** The low-priority lane, and the keys that queue in it. */
  private readonly lowQueue: string[] = [];
  private readonly lowKeys = new Set<string>();
  /** Keys handed out from the low lane and not yet done. */
  private readonly lowActive = new Set<string>();
  private readonly dirty = new Set<string>();
  /** Keys added again while being processed by low-priority adds only: re-queued in the low lane at done(). */
  private readonly dirtyLow = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  /** When each waiting key was added, and when each key being processed was handed out (ms, monotonic). */
  private readonly addedAt = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly lowMaxWaitMs: number;
  private readonly lowMaxActive: number;
  private readonly lowDelayMs: number;
  private readonly fresh: FreshWork;
  /** Hands out the low lane's head once it has waited `lowDelayMs` (set while it is held back for that alone). */
  private lowTimer: NodeJS.Timeout | undefined;
  private shuttingDown = false;

  constructor(private readonly options: WorkQueueOptions = {}) {
    this.initialMs = options.backoff?.initialMs ?? 100;
    this.maxMs = options.backoff?.maxMs ?? 300_000;
    this.lowMaxWaitMs = options.lowPriorityMaxWaitMs ?? 5_000;
    this.lowMaxActive = options.lowPriorityMaxActive ?? Infinity;
    this.lowDelayMs = options.lowPriorityDelayMs ?? 0;
    this.fresh = options.freshWork ?? new FreshWork();
  }

  /** Keys waiting to be handed out, in both lanes (not counting those being processed or delayed). */
  get length(): number {
    return this.queue.length + this.lowQueue.length;
  }

  /**
   * Sets the lane `key` queues in from its next add on (a key already waiting keeps its place).
   * `low` is remembered until set back to `normal`.
   */
  setPriority(key: string, priority: Priority): void {
    if (priority === 'low') this.lowKeys.add(key);
    else this.lowKeys.delete(key);
  }

  /** The lane `key` queues in. */
  priorityOf(key: string): Priority {
    return this.lowKeys.has(key) ? 'low' : 'normal';
  }

  /** Keys handed out and not yet `done`. */
  get active(): number {
    return this.processing.size;
  }

  get isShutDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * How long the keys being processed have been at it: the sum (`workqueue_unfinished_work_seconds`)
   * and the longest (`workqueue_longest_running_processor_seconds`).
   */
  inFlightSeconds(now = performance.now()): { total: number; longest: number } {
    let total = 0;
    let longest = 0;
    for (const at of this.startedAt.values()) {
      total += (now - at) / 1000;
      longest = Math.max(longest, (now - at) / 1000);
    }
    return { total, longest };
  }

  /**
   * Queues `key` (once: a key already waiting keeps its place). `priority` is this add's lane: a
   * `low` add (a periodic resync: nothing changed, only a look) queues in the low lane unless the key
   * already waits in the normal one; a `normal` add of a key waiting in the low lane moves it to the
   * normal lane's tail — unless the key itself is set `low` ({@link setPriority}), which wins.
   * @default `normal` (a key set `low` stays low)
   */
  add(key: string, priority: Priority = 'normal'): void {
    if (this.shuttingDown) return;
    const low = priority === 'low' || this.lowKeys.has(key);
    if (this.dirty.has(key)) {
      if (!low) this.promote(key);
      return;
    }
    this.dirty.add(key);
    this.options.metrics?.added();
    if (!this.addedAt.has(key)) this.addedAt.set(key, performance.now());
    if (!low) this.fresh.seen();
    if (this.processing.has(key)) {
      if (low) this.dirtyLow.add(key);
      return;
    }
    (low ? this.lowQueue : this.queue).push(key);
    if (this.waiters.length) this.dispatch();
    else this.options.metrics?.depth(this.length);
  }

  /** A normal add of a key already added at low priority: it waits in the normal lane from now on. */
  private promote(key: string): void {
    this.fresh.seen();
    if (this.dirtyLow.delete(key)) return; // being processed: re-queued in the normal lane at done()
    const at = this.lowQueue.indexOf(key);
    if (at < 0) return; // already in the normal lane
    this.lowQueue.splice(at, 1);
    this.queue.push(key);
    if (this.waiters.length) this.dispatch();
  }

  /** Hands waiting keys to waiting workers, as far as the lanes allow. */
  private dispatch(): void {
    while (this.waiters.length) {
      const key = this.next();
      if (key === undefined) break;
      this.dirty.delete(key);
      this.handOut(key);
      this.options.metrics?.depth(this.length);
      this.waiters.shift()!(key);
    }
  }

  private handOut(key: string): void {
    const now = performance.now();
    this.processing.add(key);
    this.options.metrics?.waited((now - (this.addedAt.get(key) ?? now)) / 1000);
    this.addedAt.delete(key);
    this.startedAt.set(key, now);
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
    if (!this.shuttingDown) this.options.metrics?.retried();
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
    const key = this.next();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.handOut(key);
      this.options.metrics?.depth(this.length);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * The head of the normal lane, unless the low lane's head has waited too long, or the normal lane
   * is empty and both the head and fresh work have been still for `lowDelayMs`.
   */
  private next(): string | undefined {
    const low = this.lowActive.size < this.lowMaxActive ? this.lowQueue[0] : undefined;
    if (low === undefined) return this.queue.shift();
    const now = performance.now();
    const waited = now - (this.addedAt.get(low) ?? now);
    const aged = waited >= this.lowMaxWaitMs;
    // Low keys are background work: they start while no normal key waits or runs (or once aged).
    const normalRunning = this.processing.size - this.lowActive.size;
    if (!aged && (this.queue.length || normalRunning)) return this.queue.shift();
    // ... and not before fresh work applied with them had its moment to arrive (the lane is FIFO by add: the head waited longest).
    const still = aged ? Infinity : Math.min(waited, this.fresh.idleFor(now));
    if (still < this.lowDelayMs) {
      this.lowTimer ??= setTimeout(() => {
        this.lowTimer = undefined;
        if (!this.shuttingDown) this.dispatch();
      }, this.lowDelayMs - still).unref();
      return undefined;
    }
    this.lowActive.add(low);
    return this.lowQueue.shift();
  }

  /** Marks `key` finished; if it was added meanwhile it is queued again. */
  done(key: string): void {
    const started = this.startedAt.get(key);
    if (started !== undefined) this.options.metrics?.worked((performance.now() - started) / 1000);
    this.startedAt.delete(key);
    this.processing.delete(key);
    if (!this.lowActive.delete(key)) this.fresh.seen();
    const low = this.dirtyLow.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) {
      this.dirty.delete(key);
      this.add(key, low ? 'low' : 'normal');
    }
    // A finished key may let a low-priority one start (a low slot freed, or no normal key runs now).
    if (!this.shuttingDown) this.dispatch();
  }

  /** Stops handing out keys: pending `get`s resolve `undefined`, delayed adds are dropped. */
  shutDown(): void {
    this.shuttingDown = true;
    clearTimeout(this.lowTimer);
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }
}
