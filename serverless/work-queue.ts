import { Backoff } from '../kube/backoff.js';

export interface WorkQueueOptions {
  /** Keys worked on at once. @default 4 */
  concurrency?: number;
  /** Retry delays after a failure. @default 100 ms doubling to 30 s */
  backoff?: { initialMs: number; maxMs: number };
  /** Called with the error of a failed attempt (it is retried). */
  onError?(key: string, err: unknown): void;
}

/**
 * A de-duplicating work queue: a key added while queued is one piece of work, a key added while
 * being worked on runs again afterwards, never twice at once; failures retry with backoff. The
 * Function controller's loop until the shared runtime/ reconciler lands.
 */
export class WorkQueue {
  private readonly queued = new Set<string>();
  private readonly active = new Set<string>();
  private readonly again = new Set<string>();
  private readonly backoffs = new Map<string, Backoff>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly work: (key: string) => Promise<void>, private readonly options: WorkQueueOptions = {}) {}

  add(key: string): void {
    if (this.stopped) return;
    if (this.active.has(key)) {
      this.again.add(key);
      return;
    }
    this.queued.add(key);
    this.pump();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.queued.clear();
  }

  /** Resolves when nothing is queued or running (tests). */
  idle(): Promise<void> {
    if (this.queued.size === 0 && this.active.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    const concurrency = this.options.concurrency ?? 4;
    for (const key of this.queued) {
      if (this.active.size >= concurrency) return;
      this.queued.delete(key);
      this.active.add(key);
      void this.run(key);
    }
  }

  private async run(key: string): Promise<void> {
    try {
      await this.work(key);
      this.backoffs.delete(key);
    } catch (err) {
      this.options.onError?.(key, err);
      let b = this.backoffs.get(key);
      if (!b) this.backoffs.set(key, (b = new Backoff(this.options.backoff?.initialMs ?? 100, this.options.backoff?.maxMs ?? 30_000)));
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.add(key);
      }, b.next());
      timer.unref();
      this.timers.add(timer);
    } finally {
      this.active.delete(key);
      if (this.again.delete(key)) this.queued.add(key);
      if (!this.stopped) this.pump();
      if (this.queued.size === 0 && this.active.size === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }
}
