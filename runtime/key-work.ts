/**
 * Keys some work runs for now (a count each), and waiters for all work of some keys to end — what a
 * shard hand-over waits on: a controller's reconciles, and work done for a key from another key's
 * reconcile (Manager.forKey).
 *
 * @example
 *   const work = new KeyWork()
 *   work.start('shop/web'); try { ... } finally { work.end('shop/web') }
 *   await work.drain((key) => shardOf(key, 12) === 3)
 */
export class KeyWork {
  private readonly running = new Map<string, number>();
  private waiters: { test: (key: string) => boolean; resolve: () => void }[] = [];

  start(key: string): void {
    this.running.set(key, (this.running.get(key) ?? 0) + 1);
  }

  end(key: string): void {
    const n = (this.running.get(key) ?? 1) - 1;
    if (n) this.running.set(key, n);
    else this.running.delete(key);
    if (!this.waiters.length) return;
    const still = this.waiters.filter((w) => this.some(w.test));
    for (const w of this.waiters) if (!still.includes(w)) w.resolve();
    this.waiters = still;
  }

  /** Runs `fn` as work for `key`. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    this.start(key);
    try {
      return await fn();
    } finally {
      this.end(key);
    }
  }

  /** Whether work for a key passing `test` runs now. */
  some(test: (key: string) => boolean): boolean {
    for (const key of this.running.keys()) if (test(key)) return true;
    return false;
  }

  /** Resolves once no work for a key passing `test` runs. */
  drain(test: (key: string) => boolean): Promise<void> {
    if (!this.some(test)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }
}
