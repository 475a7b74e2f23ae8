import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { messageOf } from '../../lib/errors.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import { metricLabels, type Activator } from '../activator/activator.js';
import type { Scaler } from '../backends/kubernetes.js';
import type { EventRecorder } from '../../runtime/index.js';
import { FUNCTION_API_VERSION, FUNCTION_KIND, type FunctionConfig } from '../function/config.js';
import { decide, type KpaDecision, type KpaState } from './kpa.js';
import { LocalFleet, type ActivatorFleet } from './fleet.js';
import { DirectArrivals, readInstanceMeters } from './instance-meters.js';
import { AutoscalerMetrics } from './metrics.js';
import { StatsAggregator, type TrafficReport } from './stats.js';
import type { Capacity } from '../endpoints/slices.js';
import { SampleWindow } from './window.js';

export interface AutoscalerOptions {
  /** This replica's activator: its revisions (settings, instances) are what is scaled. */
  activator: Activator;
  /** Where concurrency comes from and drains happen. @default this activator alone ({@link LocalFleet}) */
  fleet?: ActivatorFleet;
  scaler: Scaler;
  /** The Functions' own Services: told each tick what every revision can take (proxy/serve mode). */
  endpoints?: { update(capacities: Map<string, Capacity>): Promise<void>; mode(fnKey: string): 'proxy' | 'serve' };
  /** Decision interval. @default 2000 (Knative's tick) */
  tickMs?: number;
  events?: EventRecorder;
  registry?: Registry;
  logger?: Logger;
}

/** One decision with what it was based on, for listeners (tests, benchmarks, the CLI). */
export interface DecisionRecord extends KpaDecision {
  key: string;
  at: number;
  current: number;
  ready: number;
  stable: number;
  panic: number;
  trigger: 'tick' | 'burst';
}

interface Scaling {
  window: SampleWindow;
  startedAt: number;
  kpa: KpaState;
  last?: KpaDecision;
  /** When the previous tick evaluated it. */
  lastTick?: number;
  /** Serialized changes of this function's replicas. */
  chain: Promise<void>;
  pending: number;
}

/**
 * Knative-style autoscaler over the activator's concurrency (DESIGN.md §5). Every tick, and at
 * once when the activator reports a burst, it averages each function's concurrency over the stable
 * and panic windows, decides with {@link decide}, and changes replicas through the {@link Scaler}.
 * Scale-ups from zero come straight from the activator ({@link activate}: one per burst).
 *
 * A scale-down never cuts a request: first the activator drains the chosen instances (they get no
 * new requests; for a scale to zero a request arriving meanwhile calls the scale-down off), and only
 * once none has a request in flight are they retired for good, marked for removal and the replicas
 * written. Every change of one function's replicas runs in one serialized chain, so a scale-up
 * asked for while a scale-down completes happens after it — never interleaved with it.
 */
export class Autoscaler {
  readonly registry: Registry;
  readonly metrics: AutoscalerMetrics;
  private readonly scaling = new Map<string, Scaling>();
  private readonly listeners: ((d: DecisionRecord) => void)[] = [];
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private subscribed = false;
  private readonly fleet: ActivatorFleet;
  private readonly aggregator = new StatsAggregator();
  private readonly direct = new DirectArrivals();
  private ticking: Promise<void> | undefined;
  private again: { trigger: 'tick' | 'burst'; burst?: { key: string; concurrency: number } } | undefined;

  constructor(private readonly options: AutoscalerOptions) {
    this.fleet = options.fleet ?? new LocalFleet(options.activator);
    this.registry = options.registry ?? new Registry();
    this.metrics = new AutoscalerMetrics(this.registry);
    this.logger = options.logger ?? silentLogger;
  }

  start(): void {
    this.stopped = false;
    if (this.timer) return;
    if (!this.subscribed)
      this.options.activator.subscribe({
        activate: (key, queued) => this.activate(key, queued),
        burst: (key, concurrency) => void this.tick('burst', { key, concurrency }),
      });
    this.subscribed = true;
    this.timer = setInterval(() => void this.tick(), this.options.tickMs ?? 2_000);
    this.timer.unref();
  }

  /** Stops deciding; resolves once replica changes under way have finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
    await Promise.all([...this.scaling.values()].map((s) => s.chain));
  }

  onDecision(listener: (d: DecisionRecord) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Reads every activator's concurrency and runs one decision for every revision (what each tick
   * does; a burst runs one at once). Ticks never overlap: one asked for while another runs follows it.
   */
  tick(trigger: 'tick' | 'burst' = 'tick', burst?: { key: string; concurrency: number }): Promise<void> {
    if (this.ticking) {
      this.again = this.again ?? (burst ? { trigger, burst } : { trigger });
      return this.ticking;
    }
    this.ticking = (async () => {
      try {
        // Every activator's count plus each instance's direct requests (docs/adr/0017): each request once.
        const [activators, instances] = await Promise.all([
          this.fleet.collect(),
          readInstanceMeters(this.options.activator),
        ]);
        const reports = this.aggregator.take([...activators, ...instances.stats]);
        for (const [key, n] of this.direct.take(instances.stats)) {
          const config = this.options.activator.traffic(key)?.config;
          if (config) this.metrics.direct.inc(labels(config), n);
        }
        if (this.stopped) return;
        const capacities = new Map<string, Capacity>();
        for (const key of this.options.activator.keys()) {
          const capacity = this.evaluate(
            key,
            reports.get(key),
            trigger,
            burst?.key === key ? burst.concurrency : undefined,
          );
          if (capacity) capacities.set(key, { ...capacity, metered: instances.metered.has(key) });
        }
        for (const key of [...this.scaling.keys()]) if (!this.options.activator.traffic(key)) this.scaling.delete(key);
        void this.options.endpoints?.update(capacities);
      } catch (err) {
        this.logger.warn({ err: messageOf(err) }, "reading the activators' concurrency failed");
      } finally {
        this.ticking = undefined;
        const again = this.again;
        this.again = undefined;
        if (again && !this.stopped) void this.tick(again.trigger, again.burst);
      }
    })();
    return this.ticking;
  }

  /** Requests wait with no instance ready: scale up now, without waiting for a tick. */
  activate(key: string, queued: number): void {
    if (this.stopped) return;
    const traffic = this.options.activator.traffic(key);
    if (!traffic) return;
    this.enqueue(key, async () => {
      const config = traffic.config;
      let needed = Math.max(1, config.minScale, Math.ceil(Math.max(queued, traffic.queue.length) / config.target));
      if (config.maxScale > 0) needed = Math.min(needed, config.maxScale);
      const current = this.options.scaler.replicas(key);
      if (current === undefined || current >= needed) return;
      await this.options.scaler.scale(key, needed);
      this.metrics.writes.inc({ ...labels(config), reason: 'activation' });
      this.event(
        config,
        'Normal',
        'Activated',
        `scaled from ${current} to ${needed}: ${queued} request(s) held with no instance ready`,
      );
    });
  }

  private state(key: string, window: number): Scaling {
    let s = this.scaling.get(key);
    if (!s) {
      s = {
        window: new SampleWindow(window),
        startedAt: performance.now(),
        kpa: { panicDesired: 0 },
        chain: Promise.resolve(),
        pending: 0,
      };
      this.scaling.set(key, s);
    }
    s.window.lengthMs = window;
    return s;
  }

  /** One decision for one revision; returns what it can take, for the proxy/serve decision. */
  private evaluate(
    key: string,
    reported: TrafficReport | undefined,
    trigger: 'tick' | 'burst',
    burst?: number,
  ): Capacity | undefined {
    if (this.stopped) return undefined;
    const { activator, scaler } = this.options;
    const traffic = activator.traffic(key);
    if (!traffic) return undefined;
    const config = traffic.config;
    const now = performance.now();
    const s = this.state(key, config.scale.stableWindowSeconds * 1000);
    // A revision no meter reported on this tick had no request anywhere.
    const report = reported ?? {
      average: 0,
      max: 0,
      arrivals: 0,
      current: 0,
      intervalMs: now - (s.lastTick ?? s.startedAt),
      queued: 0,
      ready: traffic.readyCount,
      idleMs: Infinity,
    };
    s.lastTick = now;
    if (report.intervalMs > 0)
      s.window.add({
        at: now,
        intervalMs: report.intervalMs,
        average: report.average,
        max: report.max,
        arrivals: report.arrivals,
      });
    const current = scaler.replicas(key);
    if (current === undefined) return undefined;
    const stable = s.window.summary(now);
    const panic = s.window.summary(now, config.scale.panicWindowSeconds * 1000);
    const { decision, state } = decide(
      config,
      {
        now,
        stable: stable.average,
        panic: panic.average,
        ...(burst !== undefined ? { burst } : {}),
        stableArrivals: stable.arrivals,
        stableMax: stable.max,
        coveredMs: Math.min(stable.coveredMs, now - s.startedAt),
        ready: Math.max(report.ready, traffic.readyCount),
        current,
        idleMs: report.current > 0 ? 0 : Math.min(report.idleMs, now - s.startedAt),
      },
      s.kpa,
    );
    s.kpa = state;
    this.record(config, s, {
      ...decision,
      key,
      at: now,
      current,
      ready: Math.max(report.ready, traffic.readyCount),
      stable: stable.average,
      panic: Math.max(panic.average, burst ?? 0),
      trigger,
    });
    if (decision.desired > current) {
      // Growing beats finishing a partial drain: the drained instances serve again.
      if (traffic.draining) traffic.cancelRetire();
      if (s.pending === 0) this.enqueue(key, () => this.scaleUp(config, decision.desired));
    } else if (decision.desired < current && s.pending === 0) {
      // No scale-down while the Function's Service points at the instances: this tick switches it
      // to the activators first, whose drain handshake then keeps the removal from cutting a request
      // (a request sent straight to a removed instance would find none).
      const serving = this.options.endpoints?.mode(`${config.namespace}/${config.function}`) === 'serve';
      if (!serving) this.enqueue(key, () => this.scaleDown(config, current, decision.desired));
    }
    const ready = Math.max(report.ready, traffic.readyCount);
    return {
      ready,
      target: config.target,
      panic: Math.max(panic.average, burst ?? 0, report.current),
      stable: stable.average,
      targetBurstCapacity: config.scale.targetBurstCapacity,
      toZero: decision.desired === 0,
      scalingDown: decision.desired < current,
      metered: false,
    };
  }

  private record(config: FunctionConfig, s: Scaling, d: DecisionRecord): void {
    const l = labels(config);
    this.metrics.desired.set(l, d.desired);
    this.metrics.current.set(l, d.current);
    this.metrics.ready.set(l, d.ready);
    this.metrics.stable.set(l, d.stable);
    this.metrics.panic.set(l, d.panic);
    this.metrics.target.set(l, config.target);
    this.metrics.panicMode.set(l, d.panicking ? 1 : 0);
    const result = d.desired > d.current ? 'up' : d.desired < d.current ? (d.desired === 0 ? 'zero' : 'down') : 'hold';
    this.metrics.decisions.inc({ ...l, result });
    const previous = s.last;
    s.last = d;
    if (!previous || previous.desired !== d.desired || previous.panicking !== d.panicking) {
      const reason =
        d.panicking !== (previous?.panicking ?? false)
          ? d.panicking
            ? 'PanicMode'
            : 'StableMode'
          : d.desired === 0
            ? 'ScaleToZero'
            : d.desired > (previous?.desired ?? d.current)
              ? 'ScaleUp'
              : 'ScaleDown';
      this.event(
        config,
        'Normal',
        reason,
        `desired ${d.desired} (replicas ${d.current}, ready ${d.ready}, stable concurrency ${round(d.stable)}, panic concurrency ${round(d.panic)}, target ${config.target}): ${d.reason}`,
      );
    }
    for (const listener of this.listeners) listener(d);
  }

  private async scaleUp(config: FunctionConfig, desired: number): Promise<void> {
    const current = this.options.scaler.replicas(config.key);
    if (current === undefined || current >= desired) return;
    await this.options.scaler.scale(config.key, desired);
    this.metrics.writes.inc({ ...labels(config), reason: 'up' });
    this.logger.info({ function: config.key, from: current, to: desired }, 'scaled up');
  }

  private async scaleDown(config: FunctionConfig, current: number, desired: number): Promise<void> {
    const { activator, scaler } = this.options;
    const traffic = activator.traffic(config.key);
    if (!traffic || scaler.replicas(config.key) !== current) return;
    // Every replica must be known (have an endpoint) so the ones removed are the ones drained.
    // Instances still starting (probing) never got a request: they go first, like the ReplicaSet's not-ready pods.
    const candidates = traffic.snapshot().filter((i) => i.state === 'ready' || i.state === 'probing');
    if (candidates.length < current || candidates.some((i) => !i.pod)) {
      this.metrics.drains.inc({ ...labels(config), outcome: 'unsettled' });
      return;
    }
    const rank = (i: { state: string; inFlight: number }) => (i.state === 'probing' ? -1 : i.inFlight);
    const victims = [...candidates].sort((a, b) => rank(a) - rank(b)).slice(0, candidates.length - desired);
    const ids = victims.map((v) => v.id);
    const pods = victims.map((v) => v.pod!);
    const committed = await this.fleet.retire(config.key, ids, desired === 0);
    if (!committed) {
      this.metrics.drains.inc({ ...labels(config), outcome: 'called-off' });
      this.logger.debug(
        { function: config.key, from: current, to: desired },
        'scale-down called off: requests arrived during the drain',
      );
      return;
    }
    this.metrics.drains.inc({ ...labels(config), outcome: 'committed' });
    try {
      await scaler.markForRemoval(config.key, pods);
      await scaler.scale(config.key, desired);
    } catch (err) {
      // Nothing was removed: the drained instances can serve again.
      await this.fleet.unretire(config.key, ids);
      this.metrics.drains.inc({ ...labels(config), outcome: 'failed' });
      throw err;
    }
    this.metrics.writes.inc({ ...labels(config), reason: 'down' });
    this.logger.info(
      { function: config.key, from: current, to: desired, pods: pods.map((p) => p.name) },
      desired === 0 ? 'scaled to zero' : 'scaled down',
    );
    await scaler.ensureRemoved(config.key, pods);
  }

  private enqueue(key: string, op: () => Promise<void>): void {
    const s = this.scaling.get(key) ?? this.state(key, 60_000);
    s.pending++;
    s.chain = s.chain
      .then(op)
      .catch((err: unknown) => {
        const config = this.options.activator.traffic(key)?.config;
        this.logger.warn({ function: key, err: messageOf(err) }, 'changing replicas failed');
        if (config) this.event(config, 'Warning', 'ScaleFailed', `changing replicas failed: ${messageOf(err)}`);
      })
      .finally(() => s.pending--);
  }

  /** An Event on the Function (where people look), naming the revision when it is one. */
  private event(config: FunctionConfig, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const regarding = {
      apiVersion: config.origin?.apiVersion ?? FUNCTION_API_VERSION,
      kind: config.origin?.kind ?? FUNCTION_KIND,
      metadata: { name: config.function, namespace: config.namespace, ...(config.uid ? { uid: config.uid } : {}) },
    };
    this.options.events?.event(
      regarding,
      type,
      reason,
      'Scale',
      config.name === config.function ? message : `revision ${config.name}: ${message}`,
    );
  }
}

const labels = metricLabels;
const round = (n: number) => Math.round(n * 100) / 100;
