import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { messageOf } from '../lib/errors.js';
import { silentLogger, type Logger } from '../lib/log.js';
import { repositoryKey } from './url.js';

/** A GitSync the receiver may trigger: its key and what it follows. */
export interface PushTarget {
  namespace: string;
  name: string;
  url: string;
  /** The branch it follows, if any (a push to another branch does not trigger it). */
  branch?: string;
}

export interface PushReceiverOptions {
  /** The shared secret the sender signs with (GitHub's webhook "secret"). */
  secret: string;
  /** The GitSyncs that exist now (e.g. the controller's cache). */
  targets(): PushTarget[];
  /** Starts a sync of these now. */
  trigger(targets: PushTarget[]): Promise<void>;
  /** @default 127.0.0.1 */
  host?: string;
  /** @default 0 (any free port) */
  port?: number;
  /** @default 1 MiB */
  maxBodyBytes?: number;
  logger?: Logger;
}

/** The path the receiver answers on. */
export const PUSH_PATH = '/hooks/git';

/** `sha256=<hex>` of the body, as GitHub sends it in `X-Hub-Signature-256`. */
export function signBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Constant-time check of an `X-Hub-Signature-256` header against the body. */
export function verifySignature(secret: string, body: Buffer, header: string | undefined): boolean {
  if (!header || !header.startsWith('sha256=')) return false;
  const expected = Buffer.from(signBody(secret, body));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

interface PushPayload {
  ref?: string;
  repository?: Record<string, unknown>;
}

/** The GitSyncs a push concerns: same repository (any URL spelling), and the pushed branch if they follow one. */
export function matchPush(payload: PushPayload, targets: PushTarget[]): PushTarget[] {
  const repo = payload.repository ?? {};
  const urls = ['clone_url', 'ssh_url', 'git_url', 'html_url', 'url', 'git_http_url', 'git_ssh_url', 'homepage']
    .map((k) => repo[k])
    .filter((u): u is string => typeof u === 'string' && u.length > 0);
  const keys = new Set(urls.map(repositoryKey));
  const branch = payload.ref?.startsWith('refs/heads/') ? payload.ref.slice('refs/heads/'.length) : undefined;
  return targets.filter((t) => keys.has(repositoryKey(t.url)) && (!t.branch || !branch || t.branch === branch));
}

/**
 * The push notification endpoint: `POST /hooks/git` with a GitHub-style push payload (GitHub,
 * Gitea and Forgejo send this shape) signed in `X-Hub-Signature-256` with the shared secret.
 * A bad or missing signature gets 401 and triggers nothing; a valid push starts a sync of every
 * GitSync following that repository (and branch) and answers 202 with their names.
 *
 * @example
 *   const receiver = new PushReceiver({ secret, targets: () => [...], trigger: async (t) => ... })
 *   await receiver.start()   // receiver.url → http://127.0.0.1:PORT/hooks/git
 */
export class PushReceiver {
  private readonly server: http.Server;
  private readonly logger: Logger;

  constructor(private readonly options: PushReceiverOptions) {
    if (!options.secret) throw new Error('PushReceiver needs a non-empty secret');
    this.logger = options.logger ?? silentLogger;
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    const host = this.options.host ?? '127.0.0.1';
    return `http://${host.includes(':') ? `[${host}]` : host}:${this.port}${PUSH_PATH}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const reply = (code: number, body: Record<string, unknown>): void =>
      void res.writeHead(code, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
    if (new URL(req.url ?? '/', 'http://x').pathname !== PUSH_PATH)
      return reply(404, { error: `not found; push notifications go to ${PUSH_PATH}` });
    if (req.method !== 'POST') return reply(405, { error: 'use POST' });
    const max = this.options.maxBodyBytes ?? 1024 * 1024;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > max) return reply(413, { error: `body larger than ${max} bytes` });
      chunks.push(chunk);
    }
    const body = Buffer.concat(chunks);
    if (!verifySignature(this.options.secret, body, req.headers['x-hub-signature-256'] as string | undefined)) {
      this.logger.warn(
        { remote: req.socket.remoteAddress },
        'push notification with a bad or missing signature refused',
      );
      return reply(401, { error: 'bad or missing X-Hub-Signature-256' });
    }
    if (req.headers['x-github-event'] === 'ping') return reply(200, { ok: true });
    let payload: PushPayload;
    try {
      payload = JSON.parse(body.toString('utf8')) as PushPayload;
    } catch {
      return reply(400, { error: 'the body is not JSON' });
    }
    const matched = matchPush(payload, this.options.targets());
    try {
      if (matched.length) await this.options.trigger(matched);
    } catch (err) {
      this.logger.error({ err: messageOf(err) }, 'cannot trigger syncs');
      return reply(500, { error: 'cannot trigger syncs' });
    }
    this.logger.info(
      { ref: payload.ref, triggered: matched.map((t) => `${t.namespace}/${t.name}`) },
      'push notification',
    );
    reply(202, { triggered: matched.map((t) => `${t.namespace}/${t.name}`) });
  }
}
