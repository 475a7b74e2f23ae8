import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { messageOf } from '../../lib/errors.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import type { Activator } from '../activator/activator.js';

/** What the peer API does besides the activator's own work: take an activation when leading. */
export interface PeerHandlers {
  /** Scale a revision up from zero; false when this replica does not lead (the caller asks the leader). */
  activate(key: string, queued: number): boolean;
}

export interface PeerServerOptions {
  activator: Activator;
  /** This replica's identity: the `meter` of its stats. */
  identity: string;
  handlers: PeerHandlers;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (any free port) */
  port?: number;
  /** When set, every call must carry `Authorization: Bearer <token>`. */
  token?: string;
  logger?: Logger;
}

/** Bodies of the peer API's calls. */
export interface RetireCall {
  key: string;
  ids: string[];
  toZero: boolean;
}

/**
 * The API one runtime replica offers the others (docs/adr/0013-activator-ha.md), plain JSON over
 * HTTP on its own port:
 *   GET  /stats      this activator's meter readings (for the leader's autoscaler);
 *   POST /retire     drain instances of a revision: answers `{ committed }` once none has a
 *                    request in flight here, or `false` when a request called it off;
 *   POST /cancel     call a drain off here (another replica called it off);
 *   POST /unretire   take retired instances back;
 *   POST /activate   scale a revision up from zero (409 unless this replica leads).
 */
export class PeerServer {
  private server: http.Server | undefined;
  private readonly logger: Logger;

  constructor(private readonly options: PeerServerOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  start(): Promise<void> {
    const server = http.createServer({ keepAlive: true }, (req, res) => void this.handle(req, res));
    server.requestTimeout = 0;
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => {
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

  private authorized(req: http.IncomingMessage): boolean {
    const token = this.options.token;
    if (!token) return true;
    const given = Buffer.from(req.headers.authorization ?? '');
    const want = Buffer.from(`Bearer ${token}`);
    return given.length === want.length && timingSafeEqual(given, want);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (!this.authorized(req)) return send(401, { error: 'a peer call needs the peer token' });
    const { activator } = this.options;
    try {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && path === '/stats') return send(200, activator.stats(this.options.identity));
      if (req.method !== 'POST') return send(404, { error: `no ${req.method} ${path}` });
      const body = (await readJson(req)) as Partial<RetireCall> & { queued?: number };
      const key = String(body.key ?? '');
      if (path === '/retire') {
        const traffic = activator.traffic(key);
        // Nothing known here of these instances: nothing of theirs in flight here either.
        const known = traffic?.snapshot().some((i) => body.ids?.includes(i.id));
        if (!traffic || !known) return send(200, { committed: true });
        let closed = false;
        res.once('close', () => {
          // The caller gave up (it called the drain off, or lost leadership): so do we.
          if (!closed && traffic.draining) traffic.cancelRetire();
        });
        const committed = await activator.retire(key, body.ids ?? [], body.toZero === true);
        closed = true;
        return send(200, { committed });
      }
      if (path === '/cancel') {
        activator.traffic(key)?.cancelRetire();
        return send(200, {});
      }
      if (path === '/unretire') {
        activator.traffic(key)?.unretire(body.ids ?? []);
        return send(200, {});
      }
      if (path === '/activate')
        return this.options.handlers.activate(key, Number(body.queued ?? 1))
          ? send(202, {})
          : send(409, { error: 'not the leader' });
      return send(404, { error: `no POST ${path}` });
    } catch (err) {
      this.logger.warn({ err: messageOf(err), url: req.url }, 'a peer call failed');
      if (!res.headersSent) send(400, { error: messageOf(err) });
    }
  }
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 1 << 20) req.destroy(new Error('body over 1 MiB'));
      else chunks.push(c);
    });
    req.on('end', () => {
      try {
        resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {});
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });
}
