import { AsyncResource } from 'node:async_hooks';
import http from 'node:http';
import https from 'node:https';
import { createAgent } from './agent.js';
import { Credentials, type CredentialSet } from './credentials.js';
import { KubeApiError, KubeConnectionError, KubeconfigError } from './errors.js';
import { loadKubeconfig, type ResolvedKubeconfig } from './kubeconfig.js';

/**
 * Where the kubeconfig comes from. With neither `kubeconfig` nor `context`, kubectl's rules apply
 * (KUBECONFIG with several files, ~/.kube/config, in-cluster): see kube/kubeconfig.ts.
 */
export interface ConnectionOptions {
  /** Path of a kubeconfig file. */
  kubeconfig?: string;
  /** Context to use instead of the file's current one. */
  context?: string;
  /** The environment KUBECONFIG, HOME and exec plugins' variables come from. @default process.env */
  env?: NodeJS.ProcessEnv;
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
  /** More request headers (a proxied call's own); authentication and impersonation headers win. @default none */
  headers?: Record<string, string>;
}

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
 * Consulted right before each write (POST, PUT, PATCH, DELETE) is sent, in the caller's async
 * context; throwing refuses the write — nothing is sent and the caller gets that error. E.g. a
 * sharded controller refuses the writes of a reconcile whose shard it no longer surely holds.
 */
export type WriteFence = (request: { method: string; path: string }) => void;

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

/** The socket pool, shared by a connection and its impersonating views; rebuilt when the client certificate changes. */
interface Pool {
  agent: http.Agent;
  cert: Buffer | undefined;
  key: Buffer | undefined;
  maxSockets: number;
}

/**
 * One API server endpoint with its credentials and a keep-alive socket pool. Credentials that can
 * change (exec plugins, token files, auth-providers) are refreshed as they expire, and once more
 * after a 401. Failures to reach the server are {@link KubeConnectionError}s saying what to check.
 */
export class Connection {
  readonly server: URL;
  /** The kubeconfig context in use, resolved to its cluster and user. */
  readonly config: ResolvedKubeconfig;
  private readonly userAgent: string;
  /** Who this connection acts as, when it impersonates; such a view does not own the socket pool. */
  readonly impersonation: Impersonation | undefined;

  private constructor(
    config: ResolvedKubeconfig,
    private readonly credentials: Credentials,
    private readonly pool: Pool,
    userAgent: string,
    private readonly observers = new Set<RequestObserver>(),
    impersonation?: Impersonation,
    private readonly fences = new Set<WriteFence>(),
    /** Whether the socket pool is this view's own ({@link withOwnSockets}), closed by {@link close} even when impersonating. */
    private readonly ownsPool = false,
  ) {
    this.config = config;
    this.server = new URL(config.cluster.server);
    this.userAgent = userAgent;
    this.impersonation = impersonation;
  }

  /** The namespace of the kubeconfig context, if it sets one. */
  get namespace(): string | undefined {
    return this.config.namespace;
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
    return new Connection(
      this.config,
      this.credentials,
      this.pool,
      this.userAgent,
      this.observers,
      { user: as.user, groups: [...(as.groups ?? [])] },
      this.fences,
    );
  }

  /**
   * A view of this connection with a socket pool of its own (same server, credentials, identity,
   * observers and fences): for requests that must not wait behind a full pool — Lease renewals,
   * which a burst of slow requests on the shared pool would hold back until the Lease expires.
   * Closing it closes only its own pool.
   *
   * @example
   *   const leases = conn.withOwnSockets() // renewals never queue behind a reconcile's LISTs
   */
  withOwnSockets(maxSockets = 4): Connection {
    const { cert, key } = this.pool;
    const pool: Pool = {
      agent: createAgent({
        cluster: this.config.cluster,
        maxSockets,
        ...(cert ? { cert } : {}),
        ...(key ? { key } : {}),
      }),
      cert,
      key,
      maxSockets,
    };
    return new Connection(
      this.config,
      this.credentials,
      pool,
      this.userAgent,
      this.observers,
      this.impersonation,
      this.fences,
      true,
    );
  }

  /**
   * Reads the kubeconfig (kubectl's rules) and prepares the credentials and socket pool. Sends no
   * request: a server that is down is reported by the first request (see {@link KubeConnectionError}).
   * Throws {@link KubeconfigError} for a missing kubeconfig, an unknown context or a failing plugin.
   */
  static async open(options: ConnectionOptions = {}): Promise<Connection> {
    const config = loadKubeconfig({
      ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
      ...(options.context ? { context: options.context } : {}),
      ...(options.env ? { env: options.env } : {}),
    });
    try {
      new URL(config.cluster.server);
    } catch {
      throw new KubeconfigError(
        'TRL_KUBE_CONFIG',
        `the server of context "${config.context}" is not a URL: "${config.cluster.server}"`,
      );
    }
    const credentials = new Credentials(config.user, config.cluster, options.env ? { env: options.env } : {});
    const { cert, key } = await credentials.current();
    const maxSockets = options.maxSockets ?? 64;
    const pool: Pool = {
      agent: createAgent({ cluster: config.cluster, maxSockets, ...(cert ? { cert } : {}), ...(key ? { key } : {}) }),
      cert,
      key,
      maxSockets,
    };
    return new Connection(config, credentials, pool, options.userAgent ?? 'trellis');
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

  /**
   * Registers a {@link WriteFence} (shared with this connection's impersonating views). Returns the
   * function that removes it.
   *
   * @example
   *   const off = conn.fence(() => { if (!stillLeader()) throw new Error('not the leader any more') })
   */
  fence(fence: WriteFence): () => void {
    this.fences.add(fence);
    return () => this.fences.delete(fence);
  }

  /** Releases pooled sockets. Requests after this open new ones. A no-op on an {@link impersonating} view. */
  close(): void {
    if (!this.impersonation || this.ownsPool) this.pool.agent.destroy();
  }

  /** The credentials for the next request; a client certificate that changed (exec plugin) gets a new socket pool. */
  private async authHeaders(): Promise<Record<string, string>> {
    const set: CredentialSet = await this.credentials.current();
    if (!sameBuffer(set.cert, this.pool.cert) || !sameBuffer(set.key, this.pool.key)) {
      const old = this.pool.agent;
      Object.assign(this.pool, {
        agent: createAgent({
          cluster: this.config.cluster,
          maxSockets: this.pool.maxSockets,
          ...(set.cert ? { cert: set.cert } : {}),
          ...(set.key ? { key: set.key } : {}),
        }),
        cert: set.cert,
        key: set.key,
      });
      old.destroy();
    }
    return set.headers;
  }

  /**
   * Sends one request and parses the JSON answer; non-2xx answers become {@link KubeApiError}. A 401
   * with refreshable credentials (exec plugin, token file, auth-provider) is retried once with fresh ones.
   */
  async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
    let res = await this.send(path, options);
    if (res.statusCode === 401 && this.refreshable) {
      await readBody(res);
      this.credentials.invalidate();
      res = await this.send(path, options);
    }
    const text = await readBody(res);
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) throw this.apiError(status, text, options.method ?? 'GET', path);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * Sends a request and hands back the response whatever its status, for calls whose answer is not
   * the API server's (a service or pod proxy): the caller reads it and judges the status.
   */
  raw(path: string, options: RequestOptions = {}): Promise<http.IncomingMessage> {
    return this.send(path, options);
  }

  /** Opens a streaming request (watch); the caller reads the response. Errors as in {@link request}. */
  async stream(path: string, options: RequestOptions = {}): Promise<http.IncomingMessage> {
    const res = await this.send(path, { ...options, timeoutMs: options.timeoutMs ?? 0 });
    const status = res.statusCode ?? 0;
    if (status === 401) this.credentials.invalidate();
    if (status < 200 || status >= 300) throw this.apiError(status, await readBody(res), options.method ?? 'GET', path);
    return res;
  }

  private get refreshable(): boolean {
    const u = this.config.user;
    return !!(u.exec || u.tokenFile || u.authProvider);
  }

  /** {@link toApiError}, with a 401 saying whose credentials were refused and what to do. */
  private apiError(status: number, text: string, method: string, path: string): KubeApiError {
    const err = toApiError(status, text, method, path);
    if (status !== 401) return err;
    const who = this.config.user.name
      ? `user "${this.config.user.name}" of context "${this.config.context}"`
      : `context "${this.config.context}"`;
    return new KubeApiError(
      401,
      err.reason,
      `[TRL_KUBE_UNAUTHORIZED] the API server at ${this.server.origin} refused the credentials of ${who} (401 ${err.message}): they may have expired — log in again or get a fresh kubeconfig`,
      err.details,
    );
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
    for (const [k, v] of Object.entries(options.query ?? {}))
      if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const body =
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body);
    const headers: Record<string, string | string[]> = {
      accept: 'application/json',
      ...options.headers,
      ...(await this.authHeaders()),
      'user-agent': this.userAgent,
    };
    const as =
      this.impersonation ??
      (this.config.user.impersonate
        ? { user: this.config.user.impersonate, groups: this.config.user.impersonateGroups ?? [] }
        : undefined);
    if (as) {
      headers['impersonate-user'] = as.user;
      // One header line per group (an array value is sent as repeated lines).
      if (as.groups?.length) headers['impersonate-group'] = as.groups;
    }
    if (body !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const lib = url.protocol === 'https:' ? https : http;
    const timeoutMs = options.timeoutMs ?? 30_000;
    const method = options.method ?? 'GET';
    // Fences judge the moment a write leaves: asked now (after every await above) and again when the
    // request gets its socket — it may wait for one (the pool is full) or for a new connection, and
    // a replica starved of CPU may resume long after. Bound to this call's async context, so a fence
    // that reads the caller's context (the sharded reconcile's key) sees this request's caller even
    // when the socket comes from another request finishing, or on a retry.
    const fenced = method !== 'GET' && this.fences.size > 0;
    // Bound only when fenced: an AsyncResource per request is garbage an unfenced client need not make.
    const bind = <A extends unknown[], R>(fn: (...args: A) => R): ((...args: A) => R) =>
      fenced ? AsyncResource.bind(fn) : fn;
    const judge = bind(() => {
      for (const fence of this.fences) fence({ method, path });
    });
    const attempt = bind((n: number): Promise<http.IncomingMessage> => {
      if (fenced) judge();
      return new Promise((resolve, reject) => {
        let answered = false;
        const req = lib.request(url, { method, headers, agent: this.pool.agent, signal: options.signal }, (res) => {
          answered = true;
          resolve(res);
        });
        if (fenced)
          req.once('socket', () => {
            try {
              judge();
            } catch (err) {
              req.destroy(err as Error); // before a byte is written: 'socket' comes before the request is flushed
            }
          });
        req.on('error', (err: NodeJS.ErrnoException) => {
          if (!answered && req.reusedSocket && n < STALE_SOCKET_RETRIES && retriesOnStaleSocket(method, err))
            return resolve(attempt(n + 1));
          reject(connectionError(err, this.server, this.config, `${method} ${path}`));
        });
        if (timeoutMs > 0) {
          req.setTimeout(timeoutMs, () =>
            req.destroy(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })),
          );
        }
        req.end(body);
      });
    });
    return attempt(1);
  }
}

/**
 * How many times a request is sent in all while each try fails on a pooled keep-alive socket the
 * server had closed: the API server closes connections idle for 90 s, and a request written as its
 * close arrives fails with ECONNRESET unanswered. Go's transport (client-go's) sends it again on a
 * new connection; so does this one. A few tries, since several pooled sockets may have gone at once.
 */
const STALE_SOCKET_RETRIES = 4;

/**
 * Whether a request that failed unanswered on a reused socket is sent again: a reset or broken pipe
 * (the server closed the idle socket, so it never read the request), and not for POST — a create is
 * not idempotent, and on a reset it cannot be told whether the server read it — which fails as before
 * (a reconcile retries it).
 */
function retriesOnStaleSocket(method: string, err: NodeJS.ErrnoException): boolean {
  return method !== 'POST' && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
}

const sameBuffer = (a: Buffer | undefined, b: Buffer | undefined): boolean => (a && b ? a.equals(b) : a === b);

const TLS_TRUST = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_SIGNATURE_FAILURE',
]);

/**
 * A failure to talk to the API server at all, as a {@link KubeConnectionError} with a sentence a
 * person can act on; anything else (an abort, an error already explained) unchanged.
 */
export function connectionError(
  err: unknown,
  server: URL,
  config: Pick<ResolvedKubeconfig, 'context' | 'cluster'>,
  request = '',
): unknown {
  if (err instanceof KubeconfigError || (err as Error)?.name === 'AbortError') return err;
  const e = err as NodeJS.ErrnoException;
  const code = e?.code ?? '';
  const at = `the API server at ${server.origin}`;
  const running = ': is the cluster running? (`kubectl cluster-info`)';
  const unreachable = (why: string) =>
    new KubeConnectionError(
      'TRL_KUBE_UNREACHABLE',
      `cannot reach ${at} (context "${config.context}"): ${why}${running}`,
      { cause: err, errno: code, transient: true },
    );
  switch (code) {
    case 'ECONNREFUSED':
      return unreachable('connection refused');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return unreachable(`host "${server.hostname}" not found`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return unreachable('no route to the host');
    case 'ETIMEDOUT':
      return new KubeConnectionError(
        'TRL_KUBE_UNREACHABLE',
        `no answer from ${at}${request ? ` to ${request}` : ''}: ${e.message}${running}`,
        { cause: err, errno: code, transient: true },
      );
    case 'ECONNRESET':
    case 'EPIPE':
      return new KubeConnectionError(
        'TRL_KUBE_UNREACHABLE',
        `the connection to ${at} was closed${request ? ` during ${request}` : ''} (${code})`,
        { cause: err, errno: code, transient: true },
      );
    case 'ERR_TLS_CERT_ALTNAME_INVALID': {
      const name = config.cluster.tlsServerName ?? server.hostname;
      return new KubeConnectionError(
        'TRL_KUBE_TLS',
        `cannot trust ${at}: its certificate is not valid for "${name}" (${e.message}); set the cluster's tls-server-name in the kubeconfig to a name the certificate is valid for`,
        { cause: err, errno: code, transient: false },
      );
    }
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
      return new KubeConnectionError(
        'TRL_KUBE_TLS',
        `cannot trust ${at}: its certificate ${code === 'CERT_HAS_EXPIRED' ? 'has expired' : 'is not valid yet'} (is the clock right?)`,
        { cause: err, errno: code, transient: false },
      );
    default:
      if (TLS_TRUST.has(code)) {
        return new KubeConnectionError(
          'TRL_KUBE_TLS',
          `cannot trust ${at}: its certificate is not signed by the cluster's certificate-authority in the kubeconfig (${e.message})`,
          { cause: err, errno: code, transient: false },
        );
      }
      return err;
  }
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

interface StatusBody {
  reason?: string;
  message?: string;
  details?: unknown;
  code?: number;
}

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
