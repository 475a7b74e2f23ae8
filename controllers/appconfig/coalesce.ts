import { keyOf, requestOf, type Request } from '../../runtime/index.js';

/** The timers a {@link Coalescer} uses (tests pass their own). */
export interface CoalesceTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
  now(): number;
}

const REAL_TIMERS: CoalesceTimers = {
  set: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
  now: () => Date.now(),
};

export interface CoalescerOptions {
  /** How long a key's events must have been quiet before it is handed on. */
  quietMs: number;
  /** The longest a key waits after its first event, however many follow. @default 5 × quietMs */
  maxMs?: number;
  /** Where a key goes once quiet (the controller's queue). */
  enqueue: (req: Request) => void;
  timers?: CoalesceTimers;
}

/**
 * Hands a key on once its events stopped for `quietMs` (at most `maxMs` after the first): a burst
 * of events — kube-controller-manager reporting a Deployment's rollout in several status writes,
 * spread over a second or more on a busy machine — becomes one reconcile, wherever in the burst
 * it started. A fixed delay from the first event would cut a burst in two.
 *
 * @example
 *   const c = new Coalescer({ quietMs: 1000, enqueue: (req) => controller.enqueue(req) })
 *   c.add({ namespace: 'shop', name: 'web' })   // enqueued 1 s after the last add, at most 5 s after this one
 */
export class Coalescer {
  private readonly pending = new Map<string, { first: number; timer: unknown }>();
  private readonly timers: CoalesceTimers;

  constructor(private readonly o: CoalescerOptions) {
    this.timers = o.timers ?? REAL_TIMERS;
  }

  add(req: Request): void {
    const key = keyOf(req);
    const now = this.timers.now();
    const was = this.pending.get(key);
    if (was) this.timers.clear(was.timer);
    const first = was?.first ?? now;
    const wait = Math.max(0, Math.min(this.o.quietMs, first + (this.o.maxMs ?? 5 * this.o.quietMs) - now));
    const timer = this.timers.set(() => {
      this.pending.delete(key);
      this.o.enqueue(requestOf(key));
    }, wait);
    this.pending.set(key, { first, timer });
  }

  /** Drops every pending key (the controller stops; the next start lists everything anyway). */
  stop(): void {
    for (const { timer } of this.pending.values()) this.timers.clear(timer);
    this.pending.clear();
  }
}
