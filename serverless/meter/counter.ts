import type { MeterReading } from '../activator/meter.js';

/**
 * The counting half of an instance's meter (docs/adr/0017-instance-meter.md): requests in flight
 * integrated over time (request·ms), arrivals, the peak since the last reading and how long the
 * instance has been idle — the running totals the autoscaler reads from an activator's meter. The
 * one copy both meters use: `trellis queue-proxy` (the kubernetes backend's sidecar) calls it in
 * process, and the local runner's preload (instance-meter.ts) embeds its source. So it imports
 * nothing at run time and uses nothing but its arguments.
 *
 * @example
 *   const counter = new DirectCounter(() => performance.now())
 *   counter.enter(); ...; counter.leave()
 *   counter.read()   // { at, area, arrivals: 1, current: 0, peak: 1, idleMs }
 */
export class DirectCounter {
  private current = 0;
  private area = 0;
  private arrivals = 0;
  private peak = 0;
  private last: number;
  private lastActivity: number | undefined;

  /** `now`: a monotonic clock in milliseconds (`performance.now`). */
  constructor(private readonly now: () => number) {
    this.last = now();
  }

  /** A request arrived (one that did not come through an activator). */
  enter(): void {
    const now = this.advance();
    this.current++;
    this.arrivals++;
    if (this.current > this.peak) this.peak = this.current;
    this.lastActivity = now;
  }

  /** A request left: answered, failed or cut. */
  leave(): void {
    this.lastActivity = this.advance();
    this.current--;
  }

  /** The running totals now; the peak starts again from what is in flight. */
  read(): MeterReading {
    const at = this.advance();
    const reading: MeterReading = {
      at,
      area: this.area,
      arrivals: this.arrivals,
      current: this.current,
      peak: this.peak,
    };
    if (this.lastActivity !== undefined) reading.idleMs = at - this.lastActivity;
    this.peak = this.current;
    return reading;
  }

  private advance(): number {
    const now = this.now();
    this.area += this.current * (now - this.last);
    this.last = now;
    return now;
  }
}
