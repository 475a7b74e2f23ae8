import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** One named check; resolve to `true`, or to the reason it is not OK. */
export type Check = () => true | string;

export interface HealthServerOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port (see {@link HealthServer.port}). */
  port: number;
  registry: Registry;
  /** Liveness: the process should be restarted when one fails. */
  healthz?: Record<string, Check>;
  /** Readiness: the process should not get traffic (or be counted as up) yet. */
  readyz?: Record<string, Check>;
}

/**
 * `/healthz`, `/readyz` (200 `ok`, or 503 listing each failing check) and `/metrics` (Prometheus
 * text format) over plain HTTP. `?verbose` lists every check.
 *
 * @example
 *   const server = new HealthServer({ port: 8081, registry, readyz: { informers: () => allSynced() || 'informers not synced' } })
 *   await server.start()
 */
export class HealthServer {
  private server: http.Server | undefined;

  constructor(private readonly options: HealthServerOptions) {}

  /** The port listened on (after {@link start}). */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  start(): Promise<void> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5_000;
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n');
      if (url.pathname === '/metrics') {
        res.setHeader('content-type', this.options.registry.contentType);
        return send(res, 200, await this.options.registry.metrics());
      }
      if (url.pathname === '/healthz' || url.pathname === '/readyz') {
        const checks = (url.pathname === '/healthz' ? this.options.healthz : this.options.readyz) ?? {};
        const lines: string[] = [];
        let ok = true;
        for (const [name, check] of Object.entries(checks)) {
          const r = check();
          if (r !== true) ok = false;
          lines.push(r === true ? `[+] ${name} ok` : `[-] ${name} failed: ${r}`);
        }
        const verbose = url.searchParams.has('verbose');
        const body =
          ok && !verbose ? 'ok\n' : `${lines.join('\n')}\n${ok ? 'ok' : `${url.pathname.slice(1)} check failed`}\n`;
        return send(res, ok ? 200 : 503, body);
      }
      send(res, 404, 'not found\n');
    } catch (err) {
      send(res, 500, `${(err as Error).message}\n`);
    }
  }
}

function send(res: http.ServerResponse, status: number, body: string): void {
  res.statusCode = status;
  if (!res.hasHeader('content-type')) res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end(body);
}
