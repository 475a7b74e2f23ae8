import type { Activator, MeterStats } from '../activator/activator.js';

/**
 * The activators the autoscaler works with: what they see, and the drain half of a scale-down on
 * all of them. One activator in this process ({@link LocalFleet}), or every live replica
 * (`PeerFleet`, serverless/peers/).
 */
export interface ActivatorFleet {
  /** Every live activator's meter readings, now. */
  collect(): Promise<MeterStats[]>;
  /**
   * Stops every activator sending requests to these instances; true once none has a request in
   * flight on them (they are then retired everywhere), false when any called the scale-down off —
   * for a scale to zero, a request arriving anywhere does — and then every activator uses them again.
   */
  retire(key: string, ids: string[], toZero: boolean): Promise<boolean>;
  /** Gives retired instances back to every activator (the scale-down that would remove them failed). */
  unretire(key: string, ids: string[]): Promise<void>;
}

/** One activator, in this process: a runtime of one replica. */
export class LocalFleet implements ActivatorFleet {
  constructor(
    private readonly activator: Activator,
    private readonly identity = 'local',
  ) {}

  collect(): Promise<MeterStats[]> {
    return Promise.resolve([this.activator.stats(this.identity)]);
  }

  retire(key: string, ids: string[], toZero: boolean): Promise<boolean> {
    return this.activator.retire(key, ids, toZero);
  }

  unretire(key: string, ids: string[]): Promise<void> {
    this.activator.traffic(key)?.unretire(ids);
    return Promise.resolve();
  }
}
