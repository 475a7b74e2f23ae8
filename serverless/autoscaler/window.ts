/** One activator report: concurrency over an interval ending at `at`. */
export interface Sample {
  /** End of the interval, ms. */
  at: number;
  intervalMs: number;
  average: number;
  max: number;
  arrivals: number;
}

export interface WindowSummary {
  /** Time-weighted average concurrency over the window (the part of it that has samples). */
  average: number;
  max: number;
  arrivals: number;
  /** How much of the window the samples cover, ms. */
  coveredMs: number;
}

/**
 * The samples of the last `lengthMs` (the stable window; the panic window is a suffix of it).
 * Samples partly inside a window count in proportion to their overlap.
 */
export class SampleWindow {
  private samples: Sample[] = [];

  constructor(public lengthMs: number) {}

  add(sample: Sample): void {
    this.samples.push(sample);
    const horizon = sample.at - this.lengthMs;
    let drop = 0;
    while (drop < this.samples.length && this.samples[drop]!.at <= horizon) drop++;
    if (drop) this.samples.splice(0, drop);
  }

  /** Summary of the last `spanMs` before `now` (at most the window). */
  summary(now: number, spanMs = this.lengthMs): WindowSummary {
    const from = now - Math.min(spanMs, this.lengthMs);
    let weighted = 0;
    let covered = 0;
    let max = 0;
    let arrivals = 0;
    for (const s of this.samples) {
      const overlap = Math.min(s.at, now) - Math.max(s.at - s.intervalMs, from);
      if (overlap <= 0) continue;
      weighted += s.average * overlap;
      covered += overlap;
      if (s.max > max) max = s.max;
      // Conservative: a sample reaching into the window counts all its arrivals and its peak.
      arrivals += s.arrivals;
    }
    return { average: covered > 0 ? weighted / covered : 0, max, arrivals, coveredMs: covered };
  }
}
