/** Why a held request left the queue without an instance. */
export type HoldRejection = 'overflow' | 'timeout' | 'cancelled';

interface Waiter<T> {
  grant: (value: T) => void;
  reject: (why: HoldRejection) => void;
  timer: NodeJS.Timeout | undefined;
  done: boolean;
}

/**
 * A bounded FIFO of requests waiting for an instance. `hold()` resolves when `grant()` hands the
 * waiter a value, or rejects with `overflow` (queue full: the caller answers 503), `timeout` (the
 * caller answers 504) or `cancelled` (the client went away).
 *
 * @example
 *   const q = new HoldQueue<Instance>(1000)
 *   const instance = await q.hold(60_000)        // elsewhere: q.grant(instance)
 */
export class HoldQueue<T> {
  private items: Waiter<T>[] = [];
  private head = 0;
  private live = 0;

  constructor(public capacity: number) {}

  /** Requests waiting right now. */
  get length(): number {
    return this.live;
  }

  hold(timeoutMs: number, signal?: { onCancel(cb: () => void): void }): Promise<T> {
    if (this.live >= this.capacity) return Promise.reject(new HoldError('overflow'));
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        grant: resolve,
        reject: (why) => reject(new HoldError(why)),
        timer: undefined,
        done: false,
      };
      waiter.timer = setTimeout(() => this.drop(waiter, 'timeout'), timeoutMs);
      this.items.push(waiter);
      this.live++;
      signal?.onCancel(() => this.drop(waiter, 'cancelled'));
    });
  }

  /** Hands `value` to the oldest waiter; false when nobody waits. */
  grant(value: T): boolean {
    while (this.head < this.items.length) {
      const waiter = this.items[this.head++]!;
      if (waiter.done) continue;
      this.settle(waiter);
      this.compact();
      waiter.grant(value);
      return true;
    }
    this.compact();
    return false;
  }

  /** Rejects every waiter (e.g. the function was deleted). */
  rejectAll(why: HoldRejection): void {
    for (let i = this.head; i < this.items.length; i++) {
      const waiter = this.items[i]!;
      if (!waiter.done) {
        this.settle(waiter);
        waiter.reject(why);
      }
    }
    this.items = [];
    this.head = 0;
  }

  private drop(waiter: Waiter<T>, why: HoldRejection): void {
    if (waiter.done) return;
    this.settle(waiter);
    waiter.reject(why);
  }

  private settle(waiter: Waiter<T>): void {
    waiter.done = true;
    this.live--;
    if (waiter.timer) clearTimeout(waiter.timer);
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    } else if (this.live === 0) {
      this.items = [];
      this.head = 0;
    }
  }
}

export class HoldError extends Error {
  constructor(readonly why: HoldRejection) {
    super(`request not held: ${why}`);
    this.name = 'HoldError';
  }
}
