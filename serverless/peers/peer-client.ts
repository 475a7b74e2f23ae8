import http from 'node:http';
import type { MeterStats } from '../activator/activator.js';
import type { Member } from './membership.js';
import type { RetireCall } from './peer-server.js';

/** A peer call that got no answer, or a refusal. */
export class PeerCallError extends Error {
  constructor(
    readonly member: string,
    readonly status: number,
    message: string,
  ) {
    super(`peer ${member}: ${message}`);
    this.name = 'PeerCallError';
  }
}

export interface PeerClientOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Timeout of a stats read. @default 1000 */
  statsTimeoutMs?: number;
}

/** Calls the peer API ({@link PeerServer}) of other replicas, over one keep-alive pool. */
export class PeerClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

  constructor(private readonly options: PeerClientOptions = {}) {}

  stats(member: Member): Promise<MeterStats> {
    return this.call<MeterStats>(member, 'GET', '/stats', undefined, {
      timeoutMs: this.options.statsTimeoutMs ?? 1000,
    });
  }

  /** Long: answers once the drain there committed or was called off. `signal` gives up (and so calls it off there). */
  async retire(member: Member, call: RetireCall, signal: AbortSignal): Promise<boolean> {
    return (await this.call<{ committed: boolean }>(member, 'POST', '/retire', call, { signal })).committed;
  }

  async cancel(member: Member, key: string): Promise<void> {
    await this.call(member, 'POST', '/cancel', { key }, { timeoutMs: 2000 });
  }

  async unretire(member: Member, key: string, ids: string[]): Promise<void> {
    await this.call(member, 'POST', '/unretire', { key, ids }, { timeoutMs: 2000 });
  }

  /** Asks `member` (the leader) for a scale-up from zero; false when it does not lead (any more). */
  async activate(member: Member, key: string, queued: number): Promise<boolean> {
    try {
      await this.call(member, 'POST', '/activate', { key, queued }, { timeoutMs: 2000 });
      return true;
    } catch (err) {
      if (err instanceof PeerCallError && err.status === 409) return false;
      throw err;
    }
  }

  close(): void {
    this.agent.destroy();
  }

  private call<T>(
    member: Member,
    method: string,
    path: string,
    body: unknown,
    limits: { timeoutMs?: number; signal?: AbortSignal },
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string | number> = { accept: 'application/json' };
      if (text !== undefined)
        Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
      const req = http.request(
        `${member.peerUrl}${path}`,
        { method, headers, agent: this.agent, ...(limits.signal ? { signal: limits.signal } : {}) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const raw = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status >= 300)
              return reject(new PeerCallError(member.identity, status, `${method} ${path} answered ${status}: ${raw}`));
            try {
              resolve((raw ? JSON.parse(raw) : {}) as T);
            } catch (err) {
              reject(new PeerCallError(member.identity, status, `${method} ${path}: ${(err as Error).message}`));
            }
          });
          res.on('error', (err) => reject(new PeerCallError(member.identity, 0, err.message)));
        },
      );
      if (limits.timeoutMs)
        req.setTimeout(limits.timeoutMs, () => req.destroy(new Error(`no answer within ${limits.timeoutMs} ms`)));
      req.on('error', (err) => reject(new PeerCallError(member.identity, 0, `${method} ${path}: ${err.message}`)));
      req.end(text);
    });
  }
}
