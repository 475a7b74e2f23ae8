import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { BodyReplay } from '../activator/body-replay.js';
import { endToEndHeaders, responseHeaders, sendError, sendTimeout } from '../activator/proxy.js';
import { listenOn, proxyServer } from '../activator/proxy-server.js';
import { probeOnce } from '../probe.js';
import { DirectCounter } from './counter.js';
import { PROXIED_HEADER } from './instance-meter.js';

/** The queue-proxy's serving port (Knative's queue-proxy uses the same). */
export const QUEUE_PROXY_PORT = 8012;
/** Name of that port in the pod and of the Service's `targetPort`. */
export const QUEUE_PROXY_PORT_NAME = 'queue-proxy';
/** The meter's port: `GET /` answers a reading, `GET /ready` the pod's readiness. */
export const QUEUE_METER_PORT = 9091;
/** Path of the readiness answer on the meter's port (the pod's readiness probe). */
export const QUEUE_READY_PATH = '/ready';

export interface QueueProxyOptions {
  /** Address both ports listen on. @default '0.0.0.0' (every interface of the pod) */
  host?: string;
  /** Where clients' (and activators') requests arrive. @default {@link QUEUE_PROXY_PORT}; 0: any free */
  port?: number;
  /** Where the meter and the readiness answer listen. @default {@link QUEUE_METER_PORT}; 0: any free */
  meterPort?: number;
  /** The function's container, in the same pod. @default host '127.0.0.1' */
  upstream: { host?: string; port: number };
  /** The Function's `spec.timeoutSeconds`: a request still unanswered then gets a 504. */
  timeoutMs: number;
  /** The function's readiness path (HTTP GET, below 500 is ready); a TCP connect when absent. */
  probePath?: string;
}

/**
 * `trellis queue-proxy`: the sidecar in every pod of a kubernetes-backend Function revision
 * (docs/adr/0017-instance-meter.md, Knative's queue-proxy). Every request to the pod passes it: it
 * forwards to the function's container on 127.0.0.1 over a keep-alive pool, counts those that did
 * not come through an activator with the same {@link DirectCounter} as the local runner's in-process
 * meter (so the autoscaler sees a Service served directly), answers 504
 * (`TRL_QUEUE_PROXY_TIMEOUT`) once a request has run `timeoutMs`, and answers the pod's readiness
 * probe by probing the function (so a pod is never Ready before both are). On {@link stop} it
 * reports not ready, finishes what it is serving and closes.
 *
 * @example
 *   const qp = new QueueProxy({ upstream: { port: 8080 }, timeoutMs: 30_000 })
 *   await qp.start()   // :8012 → 127.0.0.1:8080, readings and readiness on :9091
 */
export class QueueProxy {
  readonly counter = new DirectCounter(() => performance.now());
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  private readonly server = proxyServer((req, res) => this.forward(req, res));
  private readonly meter = http.createServer((req, res) => void this.answerMeter(req, res));
  private draining = false;
  private inFlight = 0;

  constructor(readonly options: QueueProxyOptions) {}

  /** The serving port (after {@link start}). */
  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** The meter's port (after {@link start}). */
  get meterPort(): number {
    return (this.meter.address() as { port: number }).port;
  }

  /** Listens on both ports; rejects when one is taken. */
  async start(): Promise<void> {
    const host = this.options.host ?? '0.0.0.0';
    await listenOn(this.meter, this.options.meterPort ?? QUEUE_METER_PORT, host);
    await listenOn(this.server, this.options.port ?? QUEUE_PROXY_PORT, host);
  }

  /**
   * Not ready from now on; serves what it holds (new requests too, as endpoints are withdrawn late)
   * until nothing is in flight or `graceMs` passed, then closes both ports.
   */
  async stop(graceMs = 30_000): Promise<void> {
    this.draining = true;
    const until = Date.now() + graceMs;
    while (this.inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const closed = (s: http.Server) => new Promise<void>((resolve) => s.close(() => resolve()));
    const done = Promise.all([closed(this.server), closed(this.meter)]);
    this.server.closeAllConnections();
    this.meter.closeAllConnections();
    await done;
    this.agent.destroy();
  }

  private async answerMeter(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    req.resume();
    const path = (req.url ?? '/').split('?')[0];
    let status = 200;
    let body: string;
    if (path === QUEUE_READY_PATH) {
      const { host = '127.0.0.1', port } = this.options.upstream;
      const probePath = this.options.probePath;
      const ready = !this.draining && (await probeOnce({ host, port, ...(probePath ? { path: probePath } : {}) }, 900));
      status = ready ? 200 : 503;
      body = JSON.stringify({ ready, ...(this.draining ? { draining: true } : {}) });
    } else if (path === '/') body = JSON.stringify(this.counter.read());
    else {
      status = 404;
      body = JSON.stringify({ error: `no ${path} here: GET / (a meter reading) or ${QUEUE_READY_PATH}` });
    }
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const counted = req.headers[PROXIED_HEADER] === undefined;
    if (counted) this.counter.enter();
    this.inFlight++;
    const body = new BodyReplay(req);
    let upstream: http.ClientRequest | undefined;
    let answered: http.IncomingMessage | undefined;
    let responded = false;
    let retried = false;
    const timeoutMs = this.options.timeoutMs;
    const timer = setTimeout(() => {
      upstream?.destroy();
      sendTimeout(res, 'TRL_QUEUE_PROXY_TIMEOUT', timeoutMs);
    }, timeoutMs);
    res.once('close', () => {
      clearTimeout(timer);
      this.inFlight--;
      if (counted) this.counter.leave();
      // The client went away mid-answer: drop the connection rather than return a busy socket to the pool.
      if (upstream && !(answered?.complete && upstream.writableFinished)) upstream.destroy();
    });
    // The activator's mark passes on (a handler may read it); only hop-by-hop headers stop here.
    const headers = endToEndHeaders(req.rawHeaders);
    const send = () => {
      const { host = '127.0.0.1', port } = this.options.upstream;
      const up = http.request({ host, port, method: req.method, path: req.url, headers, agent: this.agent });
      upstream = up;
      up.on('response', (answer) => {
        responded = true;
        answered = answer;
        body.release();
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, responseHeaders(answer.rawHeaders));
        answer.pipe(res);
        answer.on('aborted', () => res.destroy());
        answer.on('error', () => res.destroy());
      });
      up.on('error', (err: NodeJS.ErrnoException) => {
        if (up !== upstream || res.writableEnded) return;
        if (responded) {
          res.destroy();
          return;
        }
        // A pooled socket the function had just closed: once more on a fresh one.
        const stale = up.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
        if (stale && !retried && body.replayable) {
          retried = true;
          body.detach(up);
          up.destroy();
          send();
          return;
        }
        sendError(
          res,
          502,
          'TRL_QUEUE_PROXY_BAD_GATEWAY',
          `the function's container failed the request: ${err.message}`,
        );
      });
      body.sendTo(up);
    };
    send();
  }
}
