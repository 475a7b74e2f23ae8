/** Concurrency over one interval, as the autoscaler reads it. */
export interface ConcurrencySample {
  /** Time-weighted average of requests in flight (held + proxied) over the interval. */
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

/** A meter's running totals at one moment: what an activator reports, and any reader differences. */
export interface MeterReading {
  /** The meter's clock (`performance.now()` of its process), ms. */
  at: number;
  /** Concurrency integrated over time since the meter started, in request·ms. */
  area: number;
  /** Requests that arrived since the meter started. */
  arrivals: number;
  current: number;
  /** Highest concurrency since the previous reading. */
  peak: number;
  /** ms since the last arrival or completion at `at`; absent before the first (JSON has no Infinity). */
  idleMs?: number;
}

/**
 * Counts requests in flight and integrates them over time, so an interval's average is exact
 * however short the requests (sampling the count every second would miss most 1 ms requests).
 * Totals only grow, so any number of readers can difference two readings ({@link interval}); the
 * peak is the one value reset by a reading. Two float operations per change: it sits on the
 * request path.
 */
export class ConcurrencyMeter {
  current = 0;
  /** `now` (ms) of the last arrival or completion; undefined before the first. */
  lastActivity: number | undefined;
  private area = 0;
  private arrivals = 0;
  private peak = 0;
  private last: number;

  constructor(now: number) {
    this.last = now;
  }

  enter(now: number): void {
    this.area += this.current * (now - this.last);
    this.last = now;
    this.current++;
    this.arrivals++;
    if (this.current > this.peak) this.peak = this.current;
    this.lastActivity = now;
  }

  leave(now: number): void {
    this.area += this.current * (now - this.last);
    this.last = now;
    this.current--;
    this.lastActivity = now;
  }

  /** The totals at `now`; starts a new peak. */
  read(now: number): MeterReading {
    this.area += this.current * (now - this.last);
    this.last = now;
    const reading: MeterReading = {
      at: now,
      area: this.area,
      arrivals: this.arrivals,
      current: this.current,
      peak: this.peak,
      ...(this.lastActivity === undefined ? {} : { idleMs: now - this.lastActivity }),
    };
    this.peak = this.current;
    return reading;
  }
}

/**
 * The interval between two readings of one meter: average concurrency, arrivals, and the peak the
 * later reading saw (at least the concurrency at either end).
 *
 * @example
 *   interval(meter.read(1000), meter.read(2000)).average
 */
export function interval(before: MeterReading, after: MeterReading): ConcurrencySample {
  const intervalMs = after.at - before.at;
  return {
    average: intervalMs > 0 ? (after.area - before.area) / intervalMs : after.current,
    max: Math.max(after.peak, before.current, after.current),
    arrivals: after.arrivals - before.arrivals,
    current: after.current,
    intervalMs,
  };
}
