import { performance } from 'node:perf_hooks';
import type { FunctionConfig } from '../function/config.js';
import { probeOnce, type ProbeTarget } from '../probe.js';
import { HoldQueue } from './hold-queue.js';
import { Instance, type EndpointInfo, type InstanceState } from './instance.js';
import { ConcurrencyMeter } from './meter.js';

/** What a function's traffic tells the rest of the runtime. */
export interface TrafficEvents {
  /** Requests wait and no instance is ready: scale up. Once per burst. */
  activate(key: string, queued: number): void;
  /** Concurrency reached the panic level of the ready instances: decide now. */
  burst(key: string, concurrency: number): void;
  /** The number of ready instances changed. */
  readyChanged(key: string, ready: number): void;
}

export interface TrafficOptions {
  events: TrafficEvents;
  /** Probe interval for a new instance. @default 10 */
  probeIntervalMs?: number;
  probe?: (target: ProbeTarget, timeoutMs: number) => Promise<boolean>;
}

interface Drain {
  /** Each drained instance with its state before the drain. */
  victims: Map<Instance, InstanceState>;
  toZero: boolean;
  settle: (committed: boolean) => void;
}

/**
 * The activator's state for one function: its instances, the hold queue, the concurrency meter
 * and the drain handshake with the autoscaler. Single-threaded by construction: every decision
 * (pick, hold, release, drain) happens in one synchronous step, so no request can slip between
 * "this instance is drained" and "this instance is retired".
 */
export class RevisionTraffic {
  readonly instances = new Map<string, Instance>();
  readonly queue: HoldQueue<Instance>;
  readonly meter = new ConcurrencyMeter(performance.now());
  /** A scale-up was asked for and no instance has become ready since. */
  activating = false;
  activations = 0;
  private routable: Instance[] = [];
  private rr = 0;
  private drain: Drain | undefined;
  private readonly retiredPods = new Set<string>();
  private burstLevel = 0;
  private lastBurst = -Infinity;
  private closed = false;

  constructor(
    public config: FunctionConfig,
    private readonly options: TrafficOptions,
  ) {
    this.queue = new HoldQueue(config.queueSize);
    this.updateBurstLevel();
  }

  get key(): string {
    return this.config.key;
  }

  get readyCount(): number {
    return this.routable.length;
  }

  configure(config: FunctionConfig): void {
    this.config = config;
    this.queue.capacity = config.queueSize;
    this.updateBurstLevel();
    this.dispatch();
  }

  /** Called for every arrival, before {@link acquire}. */
  arrive(now: number): void {
    this.meter.enter(now);
    if (this.meter.current >= this.burstLevel && this.routable.length > 0 && now - this.lastBurst > 100) {
      this.lastBurst = now;
      this.options.events.burst(this.key, this.meter.current);
    }
  }

  depart(now: number): void {
    this.meter.leave(now);
  }

  /** A ready instance with room (its in-flight count already raised), or undefined. */
  acquire(): Instance | undefined {
    const list = this.routable;
    const n = list.length;
    if (n === 0) return undefined;
    const limit = this.config.limit;
    let best: Instance | undefined;
    const start = this.rr++ % n;
    for (let i = 0; i < n; i++) {
      const inst = list[(start + i) % n]!;
      if (limit > 0 && inst.inFlight >= limit) continue;
      if (!best || inst.inFlight < best.inFlight) {
        best = inst;
        if (inst.inFlight === 0) break;
      }
    }
    if (best) best.inFlight++;
    return best;
  }

  /** Waits in the hold queue for an instance; asks for a scale-up when none is ready. */
  hold(timeoutMs: number, cancel?: { onCancel(cb: () => void): void }): Promise<Instance> {
    const held = this.queue.hold(timeoutMs, cancel);
    if (this.drain?.toZero) this.abortDrain();
    // One scale-up per burst: the first request held with no instance ready asks; a request that
    // finds the queue empty again (everything before it timed out) starts a new burst.
    else if (this.routable.length === 0 && this.queue.length > 0 && (!this.activating || this.queue.length === 1)) {
      this.activating = true;
      this.activations++;
      this.options.events.activate(this.key, this.queue.length);
    }
    return held;
  }

  /** A request on `inst` finished. Hands the freed room to a waiter, finishes drains, forgets gone instances. */
  release(inst: Instance): void {
    inst.inFlight--;
    if (inst.routable && this.queue.length > 0 && (this.config.limit === 0 || inst.inFlight < this.config.limit)) {
      inst.inFlight++;
      if (!this.queue.grant(inst)) inst.inFlight--;
    }
    if (inst.inFlight === 0) {
      if (this.drain?.victims.has(inst)) this.checkDrain();
      if (inst.gone) this.forget(inst);
    }
  }

  /** The instance refused a connection: stop using it until it answers a probe again. */
  suspect(inst: Instance): void {
    if (inst.state !== 'ready') return;
    inst.state = 'probing';
    this.refresh();
    this.probeLoop(inst);
  }

  /** Replaces the function's endpoints with what its EndpointSlices say now. */
  setEndpoints(endpoints: EndpointInfo[]): void {
    const seen = new Set<string>();
    for (const ep of endpoints) {
      const id = `${ep.host}:${ep.port}`;
      if (ep.terminating) continue;
      seen.add(id);
      let inst = this.instances.get(id);
      if (!inst || inst.gone) {
        if (inst) this.forget(inst);
        inst = new Instance(ep.host, ep.port, ep.pod);
        this.instances.set(id, inst);
        if (ep.pod && this.retiredPods.has(ep.pod.uid)) inst.state = 'retired';
        else this.probeLoop(inst);
      } else if (inst.sliceReady && !ep.ready && inst.state === 'ready') {
        // The platform's own probe failed (ready went true → false): believe it and probe again.
        this.suspect(inst);
      }
      inst.sliceReady = ep.ready;
      inst.meterPort = ep.meterPort;
    }
    for (const inst of this.instances.values()) {
      if (seen.has(inst.id) || inst.gone) continue;
      inst.gone = true;
      if (inst.inFlight === 0) this.forget(inst);
    }
    this.refresh();
  }

  /**
   * The drain half of a scale-down: the instances stop receiving requests; resolves true once none
   * has a request in flight (they are then retired for good), or false when the scale-down was
   * called off — for a scale to zero, by any request arriving meanwhile, which then gets them back.
   */
  retire(ids: string[], toZero: boolean): Promise<boolean> {
    if (this.drain || this.closed) return Promise.resolve(false);
    const victims = new Map<Instance, InstanceState>();
    for (const id of ids) {
      const i = this.instances.get(id);
      if (i && !i.gone && (i.state === 'ready' || i.state === 'probing')) victims.set(i, i.state);
    }
    if (victims.size === 0) return Promise.resolve(false);
    if (toZero && this.queue.length > 0) return Promise.resolve(false);
    for (const v of victims.keys()) v.state = 'draining';
    this.refresh();
    return new Promise((settle) => {
      this.drain = { victims, toZero, settle };
      this.checkDrain();
    });
  }

  /** Calls off a drain in progress (its promise resolves false); the instances serve again. */
  cancelRetire(): void {
    this.abortDrain();
  }

  /** True while a drain is in progress. */
  get draining(): boolean {
    return this.drain !== undefined;
  }

  /**
   * Takes retired instances back (the scale-down that would have removed them failed before
   * anything was deleted).
   */
  unretire(ids: string[]): void {
    for (const id of ids) {
      const inst = this.instances.get(id);
      if (!inst || inst.state !== 'retired') continue;
      inst.state = 'probing';
      if (inst.pod) this.retiredPods.delete(inst.pod.uid);
      this.probeLoop(inst);
    }
  }

  /** Instances with their state, for the autoscaler's choice of what to retire. */
  snapshot(): { id: string; state: string; inFlight: number; pod?: { name: string; uid: string } }[] {
    return [...this.instances.values()]
      .filter((i) => !i.gone)
      .map((i) => ({ id: i.id, state: i.state, inFlight: i.inFlight, ...(i.pod ? { pod: i.pod } : {}) }));
  }

  /** Rejects everything held and drops every pool (the function was deleted). */
  close(): void {
    this.closed = true;
    this.queue.rejectAll('cancelled');
    if (this.drain) this.abortDrain();
    for (const inst of this.instances.values()) inst.dispose();
    this.instances.clear();
    this.routable = [];
  }

  private checkDrain(): void {
    const drain = this.drain;
    if (!drain) return;
    for (const v of drain.victims.keys()) if (v.inFlight > 0) return;
    this.drain = undefined;
    for (const v of drain.victims.keys()) {
      v.state = 'retired';
      if (v.pod) this.retiredPods.add(v.pod.uid);
    }
    drain.settle(true);
  }

  private abortDrain(): void {
    const drain = this.drain;
    if (!drain) return;
    this.drain = undefined;
    for (const [v, before] of drain.victims) {
      if (v.state !== 'draining') continue;
      v.state = before;
      if (before === 'probing') this.probeLoop(v);
    }
    this.refresh();
    drain.settle(false);
  }

  private forget(inst: Instance): void {
    if (this.instances.get(inst.id) === inst) this.instances.delete(inst.id);
    inst.dispose();
    if (inst.pod && ![...this.instances.values()].some((i) => i.pod?.uid === inst.pod!.uid))
      this.retiredPods.delete(inst.pod.uid);
  }

  private refresh(): void {
    const before = this.routable.length;
    this.routable = [...this.instances.values()].filter((i) => i.routable);
    this.updateBurstLevel();
    if (this.routable.length > 0) {
      this.activating = false;
      this.dispatch();
    }
    if (this.routable.length !== before) this.options.events.readyChanged(this.key, this.routable.length);
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const inst = this.acquire();
      if (!inst) return;
      if (!this.queue.grant(inst)) {
        inst.inFlight--;
        return;
      }
    }
  }

  private updateBurstLevel(): void {
    this.burstLevel = Math.max(1, this.routable.length) * this.config.target * this.config.scale.panicThreshold;
  }

  private probeLoop(inst: Instance): void {
    const probe = this.options.probe ?? probeOnce;
    const started = performance.now();
    const target = {
      host: inst.host,
      port: inst.port,
      ...(this.config.readinessPath ? { path: this.config.readinessPath } : {}),
    };
    const tick = async () => {
      if (this.closed || inst.gone || inst.state !== 'probing') return;
      const ok = await probe(target, 1000);
      if (this.closed || inst.gone || inst.state !== 'probing') return;
      if (ok) {
        inst.state = 'ready';
        this.refresh();
        return;
      }
      const age = performance.now() - started;
      const interval = this.options.probeIntervalMs ?? 10;
      setTimeout(tick, age < 5_000 ? interval : age < 60_000 ? interval * 10 : 1_000).unref();
    };
    void tick();
  }
}
