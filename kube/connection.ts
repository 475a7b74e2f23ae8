import http from 'node:http';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeApiError } from './errors.js';

/** Where the kubeconfig comes from. With neither field, the usual rules apply (KUBECONFIG, ~/.kube/config, in-cluster). */
export interface ConnectionOptions {
  /** Path of a kubeconfig file. */
  kubeconfig?: string;
  /** Context to use instead of the file's current one. */
  context?: string;
  /** Upper bound on open sockets to the API server. @default 64 */
  maxSockets?: number;
  /** Sent as User-Agent. @default 'trellis' */
  userAgent?: string;
}

export interface RequestOptions {
  method?: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** Client-side timeout in ms. @default 30000 (none for streams) */
  timeoutMs?: number;
}

const AUTH_REFRESH_MS = 60_000;

/** What a {@link Connection} tells its observers after each answer (or failure) to a request. */
export interface RequestRecord {
  method: string;
  path: string;
  /** `host:port` of the API server. */
  host: string;
  /** HTTP status; 0 when no answer arrived (connection refused, timeout). */
  status: number;
  durationMs: number;
}

/** Called after every request; must not throw (it runs on the request path). */
export type RequestObserver = (record: RequestRecord) => void;

/**
 * An identity to act as (Kubernetes impersonation: `Impersonate-User` / `Impersonate-Group`
 * headers). The API server first checks that the connection's own user may `impersonate` it, then
 * authorizes the request as that identity.
 */
export interface Impersonation {
  /** e.g. `system:serviceaccount:team-a:deployer` (see {@link serviceAccountUser}). */
  user: string;
  /**
   * Groups to act with. Leave empty for a ServiceAccount: the API server then adds its groups
   * itself (`system:serviceaccounts`, `system:serviceaccounts:<ns>`, `system:authenticated`) and
   * needs only `impersonate` on `serviceaccounts`; naming groups needs `impersonate` on `groups` too.
   * @default []
   */
  groups?: string[];
}

/** The username of a ServiceAccount, as the API server authenticates (and impersonates) it. */
export function serviceAccountUser(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/**
 * One API server endpoint with its credentials and a keep-alive socket pool. Credentials that can
 * change (exec plugins, projected token files) are re-read every minute.
 */
export class Connection {
  readonly server: URL;
  readonly config: KubeConfig;
  private readonly agent: http.Agent;
  private readonly userAgent: string;
  private headers: Record<string, string> = {};
  private headersAt = 0;
  /** Who this connection acts as, when it impersonates; such a view does not own the socket pool. */
  readonly impersonation: Impersonation | undefined;

  private constructor(config: KubeConfig, server: URL, agent: http.Agent, userAgent: string, private readonly observers = new Set<RequestObserver>(), impersonation?: Impersonation) {
    this.config = config;
    this.server = server;
    this.agent = agent;
    this.userAgent = userAgent;
    this.impersonation = impersonation;
  }

  /**
   * A view of this connection that acts as another identity: same server, credentials, socket
   * pool and observers, plus the impersonation headers on every request. Closing the view does
   * nothing (the pool belongs to this connection).
   *
   * @example
   *   const asDeployer = conn.impersonating({ user: serviceAccountUser('team-a', 'deployer') })
   */
  impersonating(as: Impersonation): Connection {
    if (!as.user) throw new Error('impersonation needs a user');
    const view = new Connection(this.config, this.server, this.agent, this.userAgent, this.observers, { user: as.user, groups: [...(as.groups ?? [])] });
    view.headers = this.headers;
    view.headersAt = this.headersAt;
    return view;
  }

  static async open(options: ConnectionOptions = {}): Promise<Connection> {
    const config = new KubeConfig();
    if (options.kubeconfig) config.loadFromFile(options.kubeconfig);
    else config.loadFromDefault();
    if (options.context) config.setCurrentContext(options.context);
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new Error(`kubeconfig${options.kubeconfig ? ` ${options.kubeconfig}` : ''} has no current cluster`);
    const server = new URL(cluster.server);
    const tls: https.RequestOptions = {};
    await config.applyToHTTPSOptions(tls);
    const agentOptions: https.AgentOptions = {
      keepAlive: true,
      maxSockets: options.maxSockets ?? 64,
      ...(tls.ca ? { ca: tls.ca } : {}),
      ...(tls.cert ? { cert: tls.cert } : {}),
      ...(tls.key ? { key: tls.key } : {}),
      ...(tls.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
    };
    const agent = server.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent({ keepAlive: true, maxSockets: agentOptions.maxSockets });
    const conn = new Connection(config, server, agent, options.userAgent ?? 'trellis');
    conn.headers = flattenHeaders(tls.headers);
    conn.headersAt = Date.now();
    return conn;
  }

  /**
   * Registers an observer of every request (metrics: how many writes, how long). Returns the
   * function that removes it.
   *
   * @example
   *   const off = conn.observe((r) => r.method !== 'GET' && writes++)
   */
  observe(observer: RequestObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** Releases pooled sockets. Requests after this open new ones. A no-op on an {@link impersonating} view. */
  close(): void {
    if (!this.impersonation) this.agent.destroy();
  }

  private async authHeaders(): Promise<Record<string, string>> {
    if (Date.now() - this.headersAt > AUTH_REFRESH_MS) {
      const tls: https.RequestOptions = {};
      await this.config.applyToHTTPSOptions(tls);
      this.headers = flattenHeaders(tls.headers);
      this.headersAt = Date.now();
    }
    return this.headers;
  }

  /** Sends one request and parses the JSON answer; non-2xx answers become {@link KubeApiError}. */
  async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.send(path, options);
    const text = await readBody(res);
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) throw toApiError(status, text, options.method ?? 'GET', path);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Opens a streaming request (watch); the caller reads the response. Errors as in {@link request}. */
  async stream(path: string, options: RequestOptions = {}): Promise<http.IncomingMessage> {
    const res = await this.send(path, { ...options, timeoutMs: options.timeoutMs ?? 0 });
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) throw toApiError(status, await readBody(res), options.method ?? 'GET', path);
    return res;
  }

  private async send(path: string, options: RequestOptions): Promise<http.IncomingMessage> {
    if (!this.observers.size) return this.sendUnobserved(path, options);
    const started = performance.now();
    const method = options.method ?? 'GET';
    const notify = (status: number) => {
      const record = { method, path, host: this.server.host, status, durationMs: performance.now() - started };
      for (const o of this.observers) o(record);
    };
    try {
      const res = await this.sendUnobserved(path, options);
      notify(res.statusCode ?? 0);
      return res;
    } catch (err) {
      notify(0);
      throw err;
    }
  }

  private async sendUnobserved(path: string, options: RequestOptions): Promise<http.IncomingMessage> {
    const url = new URL(this.server.pathname.replace(/\/$/, '') + path, this.server);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    const headers: Record<string, string | string[]> = { ...(await this.authHeaders()), accept: 'application/json', 'user-agent': this.userAgent };
    if (this.impersonation) {
      headers['impersonate-user'] = this.impersonation.user;
      // One header line per group (an array value is sent as repeated lines).
      if (this.impersonation.groups?.length) headers['impersonate-group'] = this.impersonation.groups;
    }
    if (body !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const lib = url.protocol === 'https:' ? https : http;
    const timeoutMs = options.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const req = lib.request(url, { method: options.method ?? 'GET', headers, agent: this.agent, signal: options.signal }, resolve);
      req.on('error', reject);
      if (timeoutMs > 0) {
        req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`${options.method ?? 'GET'} ${path}: no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      }
      req.end(body);
    });
  }
}

function flattenHeaders(headers: http.OutgoingHttpHeaders | readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(headers)) return out;
  for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  return out;
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

interface StatusBody { reason?: string; message?: string; details?: unknown; code?: number }

/** Builds the error for a non-2xx answer, keeping the server's `Status` message when there is one. */
export function toApiError(status: number, text: string, method: string, path: string): KubeApiError {
  let body: StatusBody = {};
  try {
    body = JSON.parse(text) as StatusBody;
  } catch {
    body = { message: text.trim() || undefined };
  }
  const message = body.message ?? `${method} ${path}: HTTP ${status}`;
  return new KubeApiError(status, body.reason ?? String(status), message, body.details);
}
