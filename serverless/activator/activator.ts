import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { silentLogger, type Logger } from '../../lib/log.js';
import type { FunctionConfig } from '../function/config.js';
import type { ProbeTarget } from '../probe.js';
import { RevisionTraffic, type TrafficEvents } from './revision-traffic.js';
import { HoldError } from './hold-queue.js';
import type { EndpointInfo } from './instance.js';
import type { MeterReading } from './meter.js';
import { ActivatorMetrics } from './metrics.js';
import { proxy, sendError } from './proxy.js';
import { listenOn, proxyServer, stopGracefully } from './proxy-server.js';
import { Route, type RouteSettings, type RouteTarget } from './route.js';
import { Router } from './router.js';

export interface ActivatorOptions {
  /** Listen address. Only loopback in tests. @default '127.0.0.1' */
  host?: string;
  /** @default 0 (any free port; read `port` after start) */
  port?: number;
  /** Host routing domain: `<name>.<namespace>.<domain>`. @default 'fn.localhost' */
  domain?: string;
  /** Probe interval for new instances. @default 10 */
  probeIntervalMs?: number;
  /** Metrics go here. @default a registry of its own */
  registry?: Registry;
  logger?: Logger;
  /** For tests: replaces the TCP/HTTP readiness probe. */
  probe?: (target: ProbeTarget, timeoutMs: number) => Promise<boolean>;
  /** How long {@link Activator.stop} lets requests already here finish. @default 20000 */
  drainTimeoutMs?: number;
}

/** One revision as one activator sees it: its meter's totals, what it holds and how many instances it can use. */
export interface RevisionReading extends MeterReading {
  queued: number;
  /** Instances receiving requests. */
  ready: number;
}

/** What one meter (an activator) reports: every revision it serves. Totals only grow, so any reader can difference two. */
export interface MeterStats {
  /** The meter's identity (its runtime replica). */
  meter: string;
  revisions: Record<string, RevisionReading>;
}

/**
 * The HTTP proxy in front of every function (DESIGN.md §5). Routes by Host or path, sends each
 * request to the least busy ready instance over a keep-alive pool, and when no instance can take
 * it holds it in the function's bounded queue (full → 503, too long → 504) while asking for one
 * scale-up per burst. It probes new instances itself and releases the queue the moment one
 * answers. It measures each function's concurrency for the autoscaler and takes part in the drain
 * handshake that keeps scale-downs from cutting requests ({@link retire}).
 *
 * Functions and endpoints are fed in by {@link upsertFunction} / {@link setEndpoints}, from the
 * API server by `KubeTrafficSource`.
 *
 * @example
 *   const activator = new Activator({ port: 8080 })
 *   activator.subscribe({ activate: (key) => autoscaler.activate(key) })
 *   await activator.start()
 */
export class Activator {
  readonly router: Router;
  readonly registry: Registry;
  readonly metrics: ActivatorMetrics;
  private readonly routes = new Map<string, Route>();
  private readonly revisions = new Map<string, RevisionTraffic>();
  private readonly pendingEndpoints = new Map<string, EndpointInfo[]>();
  private readonly listeners: Partial<TrafficEvents>[] = [];
  private readonly logger: Logger;
  private server: http.Server | undefined;
  private starting: Promise<void> | undefined;
  private stopping = false;
  private readonly events: TrafficEvents;

  constructor(private readonly options: ActivatorOptions = {}) {
    this.router = new Router({ ...(options.domain ? { domain: options.domain } : {}) });
    this.registry = options.registry ?? new Registry();
    this.logger = options.logger ?? silentLogger;
    this.metrics = new ActivatorMetrics(this.registry, () => this.revisions.values());
    this.events = {
      activate: (key, queued) => {
        const config = this.revisions.get(key)?.config;
        if (config) this.metrics.activations.inc(metricLabels(config));
        this.logger.info({ function: key, queued }, 'requests held with no instance ready: asking for a scale-up');
        for (const l of this.listeners) l.activate?.(key, queued);
      },
      burst: (key, concurrency) => {
        for (const l of this.listeners) l.burst?.(key, concurrency);
      },
      readyChanged: (key, ready) => {
        this.logger.debug({ function: key, ready }, 'ready instances changed');
        for (const l of this.listeners) l.readyChanged?.(key, ready);
      },
    };
  }

  /** Port the activator listens on (after {@link start}). */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  /** `http://host:port` of the activator. */
  get url(): string {
    return `http://${this.options.host ?? '127.0.0.1'}:${this.port}`;
  }

  subscribe(listener: Partial<TrafficEvents>): void {
    this.listeners.push(listener);
  }

  /** Starts listening; calling it again returns the same promise. */
  start(): Promise<void> {
    this.starting ??= this.listen();
    return this.starting;
  }

  private async listen(): Promise<void> {
    const server = proxyServer((req, res) => this.handle(req, res));
    this.server = server;
    await listenOn(server, this.options.port ?? 0, this.options.host ?? '127.0.0.1');
  }

  /**
   * Stops gracefully: no new connections, keep-alive connections closed after their next answer,
   * and what is already here — proxied or held — gets up to `drainTimeoutMs` to finish; whatever is
   * still held then is answered 503.
   */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.starting = undefined;
    this.stopping = true;
    await stopGracefully(server, {
      drainMs: this.options.drainTimeoutMs ?? 20_000,
      busy: () => [...this.revisions.values()].some((t) => t.meter.current > 0),
      drained: () => {
        for (const r of this.routes.values()) r.close();
        for (const t of this.revisions.values()) t.close();
        this.routes.clear();
        this.revisions.clear();
      },
    });
    this.stopping = false;
  }

  /** Serves a revision (key `namespace/<revision>`) with these settings; updates them when known. */
  upsertRevision(config: FunctionConfig): void {
    const existing = this.revisions.get(config.key);
    if (existing) {
      existing.configure(config);
      return;
    }
    const traffic = new RevisionTraffic(config, {
      events: this.events,
      ...(this.options.probeIntervalMs ? { probeIntervalMs: this.options.probeIntervalMs } : {}),
      ...(this.options.probe ? { probe: this.options.probe } : {}),
    });
    this.revisions.set(config.key, traffic);
    const pending = this.pendingEndpoints.get(config.key);
    if (pending) traffic.setEndpoints(pending);
    for (const route of this.routes.values()) route.release();
  }

  /** Stops serving a revision: what it holds is answered 503. */
  removeRevision(key: string): void {
    this.revisions.get(key)?.close();
    this.revisions.delete(key);
  }

  /**
   * Where requests for an address (`namespace/<name>`, `namespace/<tag>-<name>`) go: revisions with
   * their percents. Requests already given a revision finish there. An empty list keeps the address
   * known and holds its requests until it gets targets (a Function whose traffic is not resolved yet).
   */
  setRoute(key: string, targets: RouteTarget[], settings: RouteSettings): void {
    let route = this.routes.get(key);
    if (!route) {
      route = new Route(key, settings, (rev) => this.revisions.has(rev));
      this.routes.set(key, route);
    } else route.configure(settings);
    route.setTargets(targets);
  }

  /** Forgets an address: what it holds is answered 503. */
  removeRoute(key: string): void {
    this.routes.get(key)?.close();
    this.routes.delete(key);
  }

  route(key: string): Route | undefined {
    return this.routes.get(key);
  }

  /** A function served by one revision under its own key: {@link upsertRevision} plus a route sending it everything. */
  upsertFunction(config: FunctionConfig): void {
    this.upsertRevision(config);
    this.setRoute(config.key, [{ revision: config.key, percent: 100 }], config);
  }

  /** Undoes {@link upsertFunction}. */
  removeFunction(key: string): void {
    this.removeRoute(key);
    this.removeRevision(key);
  }

  /** A revision's endpoints as its EndpointSlices list them now (kept if the revision is not known yet). */
  setEndpoints(key: string, endpoints: EndpointInfo[]): void {
    if (endpoints.length) this.pendingEndpoints.set(key, endpoints);
    else this.pendingEndpoints.delete(key);
    this.revisions.get(key)?.setEndpoints(endpoints);
  }

  /** The activator's state for one revision. */
  traffic(key: string): RevisionTraffic | undefined {
    return this.revisions.get(key);
  }

  /** Keys of the revisions served. */
  keys(): string[] {
    return [...this.revisions.keys()];
  }

  /** The totals of every revision's meter now, as `meter` (this activator's identity). */
  stats(meter: string): MeterStats {
    const now = performance.now();
    const revisions: Record<string, RevisionReading> = {};
    for (const [key, t] of this.revisions)
      revisions[key] = { ...t.meter.read(now), queued: t.queue.length, ready: t.readyCount };
    return { meter, revisions };
  }

  /** The drain half of a scale-down; see {@link RevisionTraffic.retire}. */
  retire(key: string, ids: string[], toZero: boolean): Promise<boolean> {
    return this.revisions.get(key)?.retire(ids, toZero) ?? Promise.resolve(false);
  }

  /**
   * Serves one request as if it had arrived on the activator's own port: what the local router
   * (serverless/endpoints/local-router.ts) hands over in proxy mode, without another hop.
   */
  handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    // Stopping: answer what arrives on a kept-alive connection, then close it.
    if (this.stopping) res.setHeader('connection', 'close');
    const found = this.router.route(req.headers.host, req.url ?? '/');
    if (!found) {
      sendError(
        res,
        404,
        'TRL_ACTIVATOR_NO_ROUTE',
        `name a function by Host (<name>.<namespace>.${this.router.domain}) or path (/<namespace>/<name>/...)`,
      );
      return;
    }
    const route = this.routes.get(found.key);
    if (!route) {
      sendError(res, 404, 'TRL_ACTIVATOR_NO_FUNCTION', `there is no Function ${found.key}`);
      return;
    }
    const picked = route.servable ? route.pick() : undefined;
    if (picked) {
      this.serve(req, res, found, this.revisions.get(picked)!);
      return;
    }
    // The function is known, its traffic not yet: wait for it as for an instance.
    let closed = false;
    res.once('close', () => (closed = true));
    route.pending.hold(route.queueTimeoutMs, { onCancel: (cb) => res.once('close', cb) }).then(
      (revision) => {
        const traffic = this.revisions.get(revision);
        if (closed) return;
        if (traffic) this.serve(req, res, found, traffic);
        else sendError(res, 503, 'TRL_ACTIVATOR_NO_FUNCTION', `revision ${revision} of ${found.key} went away`);
      },
      (err: unknown) => {
        const why = err instanceof HoldError ? err.why : 'cancelled';
        if (why === 'overflow')
          sendError(
            res,
            503,
            'TRL_ACTIVATOR_QUEUE_FULL',
            `${route.pending.capacity} requests already wait for ${found.key} to be routed (spec.queue.size)`,
          );
        else if (why === 'timeout')
          sendError(
            res,
            504,
            'TRL_ACTIVATOR_TIMEOUT',
            `${found.key} had no revision to serve it within ${route.queueTimeoutMs / 1000} s (spec.queue.timeoutSeconds)`,
          );
      },
    );
  }

  /** Serves one request on the revision it was given: at once when an instance has room, else from its hold queue. */
  private serve(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    found: { path: string; prefix?: string },
    traffic: RevisionTraffic,
  ): void {
    const config = traffic.config;
    const labels = metricLabels(config);
    const started = performance.now();
    traffic.arrive(started);
    const done = (status: number) => {
      const now = performance.now();
      traffic.depart(now);
      this.metrics.requests.inc({ ...labels, code: status });
      this.metrics.duration.observe(labels, (now - started) / 1000);
    };
    const target = {
      req,
      res,
      path: found.path,
      ...(found.prefix ? { prefix: found.prefix } : {}),
      traffic,
      timeoutMs: config.timeoutMs,
      done,
    };
    const instance = traffic.acquire();
    if (instance) {
      proxy({ ...target, instance });
      return;
    }
    let closed = false;
    res.once('close', () => (closed = true));
    traffic.hold(config.queueTimeoutMs, { onCancel: (cb) => res.once('close', cb) }).then(
      (held) => {
        if (closed) {
          traffic.release(held);
          done(499);
          return;
        }
        proxy({ ...target, instance: held });
      },
      (err: unknown) => {
        const why = err instanceof HoldError ? err.why : 'cancelled';
        if (why === 'overflow')
          sendError(
            res,
            503,
            'TRL_ACTIVATOR_QUEUE_FULL',
            `${config.queueSize} requests already wait for an instance of ${config.key} (spec.queue.size)`,
          );
        else if (why === 'timeout')
          sendError(
            res,
            504,
            'TRL_ACTIVATOR_TIMEOUT',
            `no instance of ${config.key} became ready within ${config.queueTimeoutMs / 1000} s (spec.queue.timeoutSeconds)`,
          );
        done(why === 'overflow' ? 503 : why === 'timeout' ? 504 : 499);
      },
    );
  }
}

/** The labels of a revision's series: its namespace, function and revision. */
export const metricLabels = (config: FunctionConfig) => ({
  namespace: config.namespace,
  function: config.function,
  revision: config.name,
});
