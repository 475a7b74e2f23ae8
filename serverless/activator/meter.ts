/** Concurrency over one interval, as the autoscaler reads it. */
export interface ConcurrencySample {
  /** Time-weighted average of requests in the activator (held + proxied) over the interval. */
  average: number;
  /** Highest concurrency seen in the interval. */
  max: number;
  /** Requests that arrived in the interval. */
  arrivals: number;
  /** Concurrency at the end of the interval. */
  current: number;
  /** Length of the interval in ms. */
  intervalMs: number;
}

/**
 * Counts requests in flight for one function and integrates them over time, so an interval's
 * average is exact however short the requests (sampling the count every second would miss most
 * 1 ms requests). Two float operations per change: it sits on the request path.
 */
export class ConcurrencyMeter {
  current = 0;
  /** `now` (ms) of the last arrival or completion. */
  lastActivity = 0;
  private area = 0;
  private max = 0;
  private arrivals = 0;
  private last: number;
  private since: number;

  constructor(now: number) {
    this.last = now;
    this.since = now;
  }

  enter(now: number): void {
    this.area += this.current * (now - this.last);
    this.last = now;
    this.current++;
    this.arrivals++;
    if (this.current > this.max) this.max = this.current;
    this.lastActivity = now;
  }

  leave(now: number): void {
    this.area += this.current * (now - this.last);
    this.last = now;
    this.current--;
    this.lastActivity = now;
  }

  /** The interval since the previous `take()`, then starts a new one. */
  take(now: number): ConcurrencySample {
    this.area += this.current * (now - this.last);
    this.last = now;
    const intervalMs = now - this.since;
    const sample: ConcurrencySample = { average: intervalMs > 0 ? this.area / intervalMs : this.current, max: this.max, arrivals: this.arrivals, current: this.current, intervalMs };
    this.area = 0;
    this.max = this.current;
    this.arrivals = 0;
    this.since = now;
    return sample;
  }
}
