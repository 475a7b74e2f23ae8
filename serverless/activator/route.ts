import { HoldQueue } from './hold-queue.js';

/** A revision and its share of a route's requests. */
export interface RouteTarget {
  /** Revision key, `namespace/<revision>`. */
  revision: string;
  /** Percent of the route's requests; targets with 0 get none. */
  percent: number;
}

/** How many requests a route without targets holds, and for how long: its function's queue. */
export interface RouteSettings {
  queueSize: number;
  queueTimeoutMs: number;
}

interface Weighted {
  revision: string;
  weight: number;
  current: number;
}

/**
 * One address of a function — its own name, or `<tag>-<name>` — and how its requests are split
 * between revisions. The split is smooth weighted round robin (as nginx does it): with 90/10, every
 * run of ten requests sends exactly one to the 10 % revision, spread out rather than bunched, so a
 * share is exact at any scale and a small revision is not hit in bursts. Changing the targets
 * affects only requests that arrive afterwards: a request keeps the revision it was given.
 *
 * A route without targets (its function is known, its traffic not resolved yet) holds requests
 * until it has some.
 *
 * @example
 *   const route = new Route('shop/hello', { queueSize: 1000, queueTimeoutMs: 60_000 }, (rev) => activator.traffic(rev) !== undefined)
 *   route.setTargets([{ revision: 'shop/hello-00001', percent: 90 }, { revision: 'shop/hello-00002', percent: 10 }])
 *   route.pick()   // 'shop/hello-00001' nine times in ten
 */
export class Route {
  readonly pending: HoldQueue<string>;
  /** Longest a request waits for the route to have targets, in ms. */
  queueTimeoutMs: number;
  private weighted: Weighted[] = [];
  private total = 0;

  /** `known(revision)`: the activator serves that revision (a route naming one it does not know yet holds requests). */
  constructor(
    readonly key: string,
    settings: RouteSettings,
    private readonly known: (revision: string) => boolean,
  ) {
    this.pending = new HoldQueue(settings.queueSize);
    this.queueTimeoutMs = settings.queueTimeoutMs;
  }

  /** True when a request can be given a revision now. */
  get servable(): boolean {
    return this.weighted.length > 0 && this.weighted.every((w) => this.known(w.revision));
  }

  configure(settings: RouteSettings): void {
    this.pending.capacity = settings.queueSize;
    this.queueTimeoutMs = settings.queueTimeoutMs;
  }

  /** The targets with a share, as set last. */
  get targets(): RouteTarget[] {
    return this.weighted.map((w) => ({ revision: w.revision, percent: w.weight }));
  }

  /** Replaces the split; keeps each surviving target's place in the rotation. Releases held requests. */
  setTargets(targets: RouteTarget[]): void {
    const before = new Map(this.weighted.map((w) => [w.revision, w.current]));
    this.weighted = targets
      .filter((t) => t.percent > 0)
      .map((t) => ({ revision: t.revision, weight: t.percent, current: before.get(t.revision) ?? 0 }));
    this.total = this.weighted.reduce((n, w) => n + w.weight, 0);
    this.release();
  }

  /** The revision for the next request, or undefined while the route has no target. */
  pick(): string | undefined {
    const list = this.weighted;
    if (list.length === 1) return list[0]!.revision;
    let best: Weighted | undefined;
    for (const w of list) {
      w.current += w.weight;
      if (!best || w.current > best.current) best = w;
    }
    if (best) best.current -= this.total;
    return best?.revision;
  }

  /** Gives each held request a revision, once the route is {@link servable}. */
  release(): void {
    while (this.pending.length > 0 && this.servable) this.pending.grant(this.pick()!);
  }

  close(): void {
    this.pending.rejectAll('cancelled');
  }
}
