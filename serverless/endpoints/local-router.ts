import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Informer } from '../../kube/index.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import { isLocalhostName } from '../address.js';
import { BodyReplay } from '../activator/body-replay.js';
import { requestHeaders, responseHeaders, sendError, sendTimeout } from '../activator/proxy.js';
import { listenOn, proxyServer, stopGracefully } from '../activator/proxy-server.js';
import { Router } from '../activator/router.js';
import { LABEL_REVISION, LABEL_SERVICE_NAME, LABEL_SLICE_MANAGED_BY } from '../labels.js';
import { LABEL_MODE, PUBLIC_ENDPOINTS_MANAGER, type Slice } from './slices.js';

/** Free keep-alive sockets close after this long: below Node's 5 s server keep-alive timeout. */
const IDLE_SOCKET_MS = 4_000;

export interface LocalRouterOptions {
  /** Listen address. @default '127.0.0.1' */
  host?: string;
  /** @default 0 (any free port; read `port` after start) */
  port?: number;
  /** Host routing domain, as the activator's. @default 'fn.localhost' */
  domain?: string;
  /** EndpointSlices with `kubernetes.io/service-name` (the Functions' Services' among them). */
  slices: Pick<Informer<Slice>, 'list' | 'on'>;
  /** This process's activator: takes every request the router does not send to an instance. */
  activator: {
    handle(req: http.IncomingMessage, res: http.ServerResponse): void;
    readonly port: number;
  };
  /**
   * A served revision's `spec.timeoutSeconds` in ms (by revision key `namespace/<revision>`): a
   * request sent straight to an instance and unanswered by then gets a 504 `TRL_ROUTER_TIMEOUT`, as
   * the activator and the kubernetes backend's queue-proxy answer it. @default none: no timeout
   */
  timeoutOf?: (revision: string) => number | undefined;
  /** How long {@link LocalRouter.stop} lets requests already here finish. @default 10000 */
  drainTimeoutMs?: number;
  logger?: Logger;
}

interface Target {
  host: string;
  port: number;
  /** Revision key of the instance (`namespace/<revision>`), from its serve-mode slice. */
  revision?: string;
}

/**
 * What kube-proxy is for a Function's own Service, for `trellis up` (no kube-proxy there): the
 * address clients call (`status.url`, `trellis fn invoke`). Each request is routed as the activator
 * routes it (Host or path) and goes where the Function's Service points now
 * (docs/adr/0017-instance-meter.md): in serve mode straight to one of its instances on this machine
 * (round robin; the instance's meter counts it), otherwise — at zero, under a burst, while its
 * traffic is split, or for anything it does not know — to the activator in this process, handed
 * over without another hop. A Service with any proxy-mode slice counts as proxy (a switch writes
 * the new slices before deleting the old ones, so this takes the activators at the first sign of
 * one). An instance that refuses the connection (gone before its slice said so) is not an error:
 * the request, not yet answered, goes to the activator. Only loopback endpoints are ever dialled.
 *
 * @example
 *   const router = new LocalRouter({ port: 8080, slices, activator })
 *   await router.start()   // curl -H 'Host: hello.default.fn.localhost' 127.0.0.1:8080
 */
export class LocalRouter {
  private readonly router: Router;
  private readonly logger: Logger;
  private readonly agent = new http.Agent({
    keepAlive: true,
    maxSockets: Infinity,
    maxFreeSockets: 1024,
    scheduling: 'lifo',
    timeout: IDLE_SOCKET_MS,
  });
  /** `namespace/name` → the instances its Service points at (serve mode only); rebuilt after a slice changes. */
  private served: Map<string, Target[]> | undefined;
  private readonly turns = new Map<string, number>();
  private server: http.Server | undefined;
  private starting: Promise<void> | undefined;
  private inFlight = 0;
  private stopping = false;

  constructor(private readonly options: LocalRouterOptions) {
    this.router = new Router({ ...(options.domain ? { domain: options.domain } : {}) });
    this.logger = options.logger ?? silentLogger;
    const stale = () => (this.served = undefined);
    options.slices.on({ add: stale, update: stale, delete: stale });
  }

  /** Port it listens on (after {@link start}). */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  /** `http://host:port`. */
  get url(): string {
    return `http://${this.options.host ?? '127.0.0.1'}:${this.port}`;
  }

  /** Starts listening; calling it again returns the same promise. */
  start(): Promise<void> {
    this.starting ??= this.listen();
    return this.starting;
  }

  private async listen(): Promise<void> {
    const server = proxyServer((req, res) => this.handle(req, res));
    await listenOn(server, this.options.port ?? 0, this.options.host ?? '127.0.0.1');
    this.server = server;
  }

  /** No new connections; what is here gets up to `drainTimeoutMs` to finish. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.starting = undefined;
    this.stopping = true;
    await stopGracefully(server, { drainMs: this.options.drainTimeoutMs ?? 10_000, busy: () => this.inFlight > 0 });
    // After the clients' connections: a request to an instance cut earlier would be retried on the activator.
    this.agent.destroy();
    this.stopping = false;
  }

  /** Where the Function `namespace/name`'s Service points: its instances here (serve mode), or undefined (the activators). */
  instances(key: string): Target[] | undefined {
    this.served ??= this.index();
    return this.served.get(key);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.stopping) res.setHeader('connection', 'close');
    this.inFlight++;
    res.once('close', () => this.inFlight--);
    const found = this.router.route(req.headers.host, req.url ?? '/');
    const targets = found ? this.instances(found.key) : undefined;
    if (!found || !targets?.length) {
      this.options.activator.handle(req, res);
      return;
    }
    const turn = this.turns.get(found.key) ?? 0;
    this.turns.set(found.key, turn + 1);
    this.forward(req, res, targets[turn % targets.length]!, found.path, found.prefix);
  }

  /**
   * Sends one request to an instance, unmarked (its meter counts it). Refused before any answer
   * (the instance went away, a kept-alive socket it had just closed): to the activator instead,
   * with what was read of the body, when it fits the replay buffer.
   */
  private forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    target: Target,
    path: string,
    prefix: string | undefined,
  ): void {
    const body = new BodyReplay(req);
    let upstream: http.ClientRequest | undefined;
    let answered = false;
    let complete = false;
    const timeoutMs = target.revision ? this.options.timeoutOf?.(target.revision) : undefined;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            upstream?.destroy();
            sendTimeout(res, 'TRL_ROUTER_TIMEOUT', timeoutMs);
          }, timeoutMs);
    res.once('close', () => {
      clearTimeout(timer);
      // The client went away before the answer ended: do not hand a busy socket back to the pool.
      if (!complete) upstream?.destroy();
    });

    const send = (to: Target, toActivator: boolean) => {
      const up = http.request({
        host: to.host,
        port: to.port,
        method: req.method,
        // The activator routes the request itself: it gets it as the client sent it.
        path: toActivator ? (req.url ?? '/') : path,
        headers: toActivator ? requestHeaders(req, undefined, false) : requestHeaders(req, prefix, false),
        agent: this.agent,
      });
      upstream = up;
      up.on('response', (ures) => {
        answered = true;
        body.release();
        res.writeHead(ures.statusCode ?? 502, ures.statusMessage, responseHeaders(ures.rawHeaders));
        ures.pipe(res);
        ures.on('end', () => (complete = true));
        ures.on('aborted', () => res.destroy());
        ures.on('error', () => res.destroy());
      });
      up.on('error', (err: NodeJS.ErrnoException) => {
        if (up !== upstream || answered || res.destroyed) {
          if (!complete) res.destroy();
          return;
        }
        const refused = err.code === 'ECONNREFUSED' || (up.reusedSocket && ['ECONNRESET', 'EPIPE'].includes(err.code!));
        if (!toActivator && refused && body.replayable) {
          body.detach(up);
          up.destroy();
          this.logger.debug({ instance: `${to.host}:${to.port}`, err: err.code }, 'instance refused: to the activator');
          clearTimeout(timer); // the activator enforces the timeout from here
          send({ host: '127.0.0.1', port: this.options.activator.port }, true);
          return;
        }
        sendError(
          res,
          502,
          'TRL_ROUTER_BAD_GATEWAY',
          `${toActivator ? 'the activator' : `the function's instance ${to.host}:${to.port}`} failed: ${err.code ?? err.message}`,
        );
      });
      body.sendTo(up);
    };
    send(target, false);
  }

  /** Functions' Services whose every public slice is in serve mode, with their ready loopback endpoints. */
  private index(): Map<string, Target[]> {
    const byService = new Map<string, Slice[]>();
    for (const s of this.options.slices.list()) {
      const labels = s.metadata.labels ?? {};
      if (labels[LABEL_SLICE_MANAGED_BY] !== PUBLIC_ENDPOINTS_MANAGER) continue;
      const key = `${s.metadata.namespace}/${labels[LABEL_SERVICE_NAME]}`;
      byService.set(key, [...(byService.get(key) ?? []), s]);
    }
    const out = new Map<string, Target[]>();
    for (const [key, slices] of byService) {
      if (slices.some((s) => s.metadata.labels?.[LABEL_MODE] !== 'serve')) continue;
      const targets: Target[] = [];
      for (const s of slices) {
        const port = s.ports?.[0]?.port;
        if (!port) continue;
        const name = s.metadata.labels?.[LABEL_REVISION];
        const revision = name ? { revision: `${s.metadata.namespace}/${name}` } : {};
        for (const e of s.endpoints ?? []) {
          const host = loopback(e.addresses[0] ?? '');
          if (host && e.conditions?.ready !== false) targets.push({ host, port, ...revision });
        }
      }
      if (targets.length) out.set(key, targets);
    }
    return out;
  }
}

/** The loopback IP for an endpoint address on this machine (`*.localhost`, 127.0.0.0/8, ::1); undefined for any other. */
function loopback(address: string): string | undefined {
  if (isLocalhostName(address)) return '127.0.0.1';
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address) || address === '::1') return address;
  return undefined;
}
