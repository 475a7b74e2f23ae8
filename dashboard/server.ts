/**
 * `trellis dashboard`: a web view of ApplicationConfigurations, their components, workloads, traits,
 * child objects, Events, component revisions, Functions and GitSyncs, updated live from watches
 * (Server-Sent Events; no polling loop in the browser), with one act: rolling a component back.
 * Pages plus a JSON API (dashboard/api.ts, contract in docs/dashboard.md).
 *
 * Two modes (dashboard/access.ts): CLI — speaks to the API server as the user (the kubeconfig it is
 * given); chart (`authenticate: true`) — each request carries the user's bearer token, checked with a
 * TokenReview, and every read and act is authorized with a SubjectAccessReview for that user. Either
 * way nobody sees or does more than their RBAC allows.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import Koa from 'koa';
import { Informer, isConflict, isForbidden, isNotFound, type KubeClient, type KubeObject } from '../kube/index.js';
import { isTrellisError, messageOf } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { packageRoot } from '../lib/paths.js';
import { Forbidden, SelfAccess, TokenAccess, Unauthenticated, type Viewer } from './access.js';
import {
  ApiError,
  getApp,
  getDiff,
  getRevisions,
  listApps,
  listFunctions,
  listGitSyncs,
  postRollback,
  visibleNamespaces,
  type ApiSources,
  type GitSyncObject,
} from './api.js';
import { CSRF_HEADER, CsrfTokens } from './csrf.js';
import { FunctionSampler, type FunctionObject } from './functions.js';
import { getObject, type ProvenanceProvider } from './objects.js';
import type { AppConfig, EventView } from './model.js';

export interface DashboardOptions {
  kube: KubeClient;
  logger: Logger;
  /** Address to listen on. @default '127.0.0.1' (loopback only) */
  host?: string;
  /** @default 0 (any free port; see {@link Dashboard.url}) */
  port?: number;
  /** Show one namespace only (for users who may not list across namespaces). @default all namespaces */
  namespace?: string;
  /**
   * Chart mode: `kube` is the dashboard's own ServiceAccount; every request must carry the user's
   * bearer token (TokenReview) and each read/act is authorized by a SubjectAccessReview for them.
   * @default false (CLI mode: `kube` is the user)
   */
  authenticate?: boolean;
  /** Activator /metrics URLs for the Functions charts. @default [] */
  metricsUrls?: string[];
  /** Activators' metrics texts read in this process (`trellis up`), for the Functions charts. */
  activatorMetrics?: () => Promise<string[]>;
  /** Find activators' /metrics by their membership Leases in this namespace (chart: the release namespace). */
  activatorNamespace?: string;
  /** How often Functions are sampled for the charts. @default 10000 */
  sampleIntervalMs?: number;
  /**
   * Renders one child object of an application with per-field provenance (cli/dashboard-provenance.ts),
   * for the rendered-object page. @default none: that endpoint answers 501 (the chart's dashboard)
   */
  provenance?: ProvenanceProvider;
}

/** Kinds the live stream reports, with the resource a viewer must be allowed to list to hear of them. */
const LIVE_KINDS: Record<string, { group: string; resource: string }> = {
  ApplicationConfiguration: { group: 'core.oam.dev', resource: 'applicationconfigurations' },
  Event: { group: '', resource: 'events' },
  Function: { group: 'serverless.trellis.dev', resource: 'functions' },
  GitSync: { group: 'gitops.trellis.dev', resource: 'gitsyncs' },
};

/** The browser app, built from dashboard/ui/ by `npm run build` (scripts/build-dashboard.ts). */
const assetsDir = (): string => path.join(packageRoot(), 'dashboard', 'assets');

/** Files of dashboard/assets/ the server serves, by extension. */
const ASSET_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/** Largest request body accepted (the rollback's JSON). */
const MAX_BODY = 64 * 1024;

/** A strict policy: nothing inline, nothing from elsewhere. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * @example
 *   const dashboard = new Dashboard({ kube, logger })
 *   await dashboard.start()
 *   console.log(dashboard.url)   // http://127.0.0.1:41235/
 *   await dashboard.stop()
 */
export class Dashboard {
  private readonly apps: Informer<AppConfig>;
  private readonly events: Informer<KubeObject & EventView>;
  private readonly functions: Informer<FunctionObject>;
  private readonly gitsyncs: Informer<GitSyncObject>;
  private readonly sampler: FunctionSampler;
  private readonly access: SelfAccess | TokenAccess;
  private readonly csrf = new CsrfTokens();
  private readonly clients = new Map<http.ServerResponse, (o: KubeObject) => Promise<boolean>>();
  private server: http.Server | undefined;

  constructor(private readonly options: DashboardOptions) {
    const namespace = options.namespace ? { namespace: options.namespace } : {};
    const logger = options.logger;
    this.access = options.authenticate ? new TokenAccess(options.kube) : new SelfAccess(options.kube);
    this.functions = new Informer<FunctionObject>(options.kube, {
      apiVersion: 'serverless.trellis.dev/v1alpha1',
      kind: 'Function',
      logger,
      ...namespace,
    });
    this.gitsyncs = new Informer<GitSyncObject>(options.kube, {
      apiVersion: 'gitops.trellis.dev/v1alpha1',
      kind: 'GitSync',
      logger,
      ...namespace,
    });
    this.sampler = new FunctionSampler({
      functions: this.functions,
      logger,
      kube: options.kube,
      ...(options.metricsUrls ? { metricsUrls: options.metricsUrls } : {}),
      ...(options.activatorMetrics ? { metricsTexts: options.activatorMetrics } : {}),
      ...(options.activatorNamespace ? { leaseNamespace: options.activatorNamespace } : {}),
      ...(options.sampleIntervalMs ? { intervalMs: options.sampleIntervalMs } : {}),
      // A new sample changes every Function's charts: the pages hear it as a change of the Function
      // (so the browser needs no timer of its own).
      onSample: (functions) => functions.forEach((fn) => this.broadcast({ ...fn, kind: 'Function' })),
    });
    this.apps = new Informer<AppConfig>(options.kube, {
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ApplicationConfiguration',
      logger,
      ...namespace,
    });
    this.events = new Informer<KubeObject & EventView>(options.kube, {
      apiVersion: 'v1',
      kind: 'Event',
      logger,
      resyncMs: 0,
      ...namespace,
    });
  }

  /** `http://127.0.0.1:<port>/`. Valid after {@link start}. */
  get url(): string {
    const address = this.server?.address();
    if (!address || typeof address === 'string') throw new Error('the dashboard is not listening');
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}/`;
  }

  /** Fills the caches (resolves once the first lists are in), then listens. */
  async start(): Promise<void> {
    const changed = (o: KubeObject) => this.broadcast(o);
    const watchedEvent = (e: KubeObject & EventView) =>
      this.broadcast({ ...e, metadata: { ...e.metadata, namespace: e.involvedObject?.namespace } });
    this.apps.on({ add: changed, update: changed, delete: changed });
    this.events.on({ add: watchedEvent, update: watchedEvent });
    this.functions.on({ add: changed, update: changed, delete: changed });
    this.gitsyncs.on({ add: changed, update: changed, delete: changed });
    // Functions and GitSyncs are optional: their kinds may not be served, or the user may not list
    // them; their pages say so (`unavailable`) rather than the dashboard not starting.
    for (const optional of [this.functions, this.gitsyncs])
      optional.start().catch((err: unknown) => this.options.logger.debug({ err: messageOf(err) }, 'informer stopped'));
    await Promise.all([this.apps.start(), this.events.start()]);
    this.sampler.start();
    const app = new Koa();
    app.use(async (ctx, next) => {
      ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.set('Referrer-Policy', 'no-referrer');
      try {
        await next();
      } catch (err) {
        const [status, code] = classify(err);
        if (status >= 500)
          this.options.logger.warn({ err: messageOf(err), path: ctx.path }, 'dashboard request failed');
        ctx.status = status;
        if (status === 401) ctx.set('WWW-Authenticate', 'Bearer');
        if (ctx.path.startsWith('/api/')) ctx.body = { error: { code, message: messageOf(err) } };
        else {
          ctx.type = 'text';
          ctx.body = `Error ${status}: ${messageOf(err)}\n`;
        }
      }
    });
    app.use((ctx) => this.route(ctx));
    const server = http.createServer(app.callback());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.options.logger.info({ url: this.url }, 'dashboard listening');
  }

  /** Ends the live streams, stops listening and watching. */
  async stop(): Promise<void> {
    for (const res of this.clients.keys()) res.end();
    this.clients.clear();
    const server = this.server;
    this.server = undefined;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await this.sampler.stop();
    await Promise.all([this.apps.stop(), this.events.stop(), this.functions.stop(), this.gitsyncs.stop()]);
  }

  private sources(): ApiSources {
    return {
      apps: this.apps,
      events: this.events,
      functions: this.functions,
      gitsyncs: this.gitsyncs,
      sampler: this.sampler,
    };
  }

  /** The asker of this request (chart mode: from its bearer token; throws {@link Unauthenticated}). */
  private viewer(ctx: Koa.Context): Promise<Viewer> {
    return this.access instanceof TokenAccess
      ? this.access.viewer(ctx.get('authorization') || undefined)
      : this.access.viewer();
  }

  private async route(ctx: Koa.Context): Promise<void> {
    const asset = /^\/assets\/([\w.-]+)$/.exec(ctx.path)?.[1];
    const type = asset && ASSET_TYPES[path.extname(asset)];
    if ((ctx.method === 'GET' || ctx.method === 'HEAD') && asset && type) {
      const body = await readFile(path.join(assetsDir(), asset)).catch(() => undefined);
      if (body) {
        ctx.type = type;
        ctx.set('Cache-Control', 'no-cache');
        ctx.body = body;
        return;
      }
    }
    if (ctx.path === '/healthz') {
      ctx.body = 'ok';
      return;
    }
    const viewer = await this.viewer(ctx);
    if (ctx.path.startsWith('/api/') && ctx.path !== '/api/live') return this.api(ctx, viewer);
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.status = 405;
      ctx.set('Allow', 'GET, HEAD');
      return;
    }
    if (ctx.path === '/live' || ctx.path === '/api/live') return this.live(ctx, viewer);
    // Every other path is a page of the browser app (dashboard/ui/, built into dashboard/assets/ by `npm run build`).
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-cache');
    const shell = await readFile(path.join(assetsDir(), 'index.html')).catch(() => undefined);
    if (shell) ctx.body = shell;
    else {
      ctx.status = 503;
      ctx.type = 'text';
      ctx.body = `The dashboard's pages are not built (no ${path.join(assetsDir(), 'index.html')}): run \`npm run build\`.\n`;
    }
  }

  /** The JSON API (docs/dashboard.md). */
  private async api(ctx: Koa.Context, viewer: Viewer): Promise<void> {
    const sources = this.sources();
    const q = (key: string) =>
      typeof ctx.query[key] === 'string' && ctx.query[key] ? (ctx.query[key] as string) : undefined;
    const namespace = q('namespace') ?? this.options.namespace;
    const parts = ctx.path.split('/').slice(2).map(decodeURIComponent);
    const get = ctx.method === 'GET' || ctx.method === 'HEAD';
    ctx.set('Cache-Control', 'no-store');
    if (get && parts.length === 1 && parts[0] === 'session') {
      const token = this.csrf.issue(viewer.user?.username ?? '');
      ctx.set('Set-Cookie', this.csrf.cookie(token, ctx.secure));
      ctx.body = {
        mode: this.options.authenticate ? 'chart' : 'cli',
        ...(viewer.user ? { user: { username: viewer.user.username, groups: viewer.user.groups } } : {}),
        ...(this.options.namespace ? { namespace: this.options.namespace } : {}),
        csrfToken: token,
      };
      return;
    }
    const [top, ns, name, sub, component, leaf] = parts;
    if (get && top === 'apps' && parts.length === 1) ctx.body = await listApps(sources, viewer, namespace);
    else if (get && top === 'apps' && parts.length === 3) ctx.body = await getApp(sources, viewer, ns!, name!);
    else if (get && top === 'apps' && parts.length === 6 && sub === 'components' && leaf === 'revisions')
      ctx.body = await getRevisions(sources, viewer, ns!, name!, component!);
    else if (get && top === 'apps' && parts.length === 6 && sub === 'components' && leaf === 'diff') {
      const from = q('from');
      const to = q('to');
      ctx.body = await getDiff(
        sources,
        viewer,
        { namespace: ns!, name: name!, component: component! },
        {
          ...(from ? { from } : {}),
          ...(to ? { to } : {}),
        },
      );
    } else if (get && top === 'apps' && parts.length === 4 && sub === 'objects') {
      const [kind, object, apiVersion] = [q('kind'), q('name'), q('apiVersion')];
      ctx.body = await getObject(sources, viewer, this.options.provenance, {
        namespace: ns!,
        app: name!,
        ...(kind ? { kind } : {}),
        ...(object ? { name: object } : {}),
        ...(apiVersion ? { apiVersion } : {}),
      });
    } else if (top === 'apps' && parts.length === 4 && sub === 'rollback') {
      if (ctx.method !== 'POST') {
        ctx.set('Allow', 'POST');
        throw new ApiError(405, 'METHOD_NOT_ALLOWED', 'rollback takes POST');
      }
      this.checkCsrf(ctx, viewer);
      const result = await postRollback(viewer, ns!, name!, await readJson(ctx));
      this.options.logger.info({ user: viewer.user?.username, message: result.message }, 'rollback');
      ctx.body = result;
    } else if (get && top === 'functions' && parts.length === 1)
      ctx.body = await listFunctions(sources, viewer, namespace);
    else if (get && top === 'gitsyncs' && parts.length === 1) ctx.body = await listGitSyncs(sources, viewer, namespace);
    else if (!get && parts.length)
      throw new ApiError(405, 'METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on ${ctx.path}`);
    else throw new ApiError(404, 'NOT_FOUND', `no API ${ctx.path}`);
  }

  /** Refuses (403) a mutating request without this dashboard's CSRF token in header and cookie, or from another origin. */
  private checkCsrf(ctx: Koa.Context, viewer: Viewer): void {
    const origin = ctx.get('origin');
    if (origin && origin !== 'null' && new URL(origin).host !== ctx.host)
      throw new ApiError(403, 'CSRF', `requests from ${origin} are refused (only this dashboard's own pages may act)`);
    const why = this.csrf.refuse(
      ctx.get(CSRF_HEADER) || undefined,
      ctx.get('cookie') || undefined,
      viewer.user?.username ?? '',
    );
    if (why) throw new ApiError(403, 'CSRF', why);
  }

  /**
   * Server-Sent Events: one `change` message (`{namespace, kind, name}`) per watched change, of
   * namespaces the viewer may list that kind in (chart mode; asked once per namespace and kind).
   */
  private live(ctx: Koa.Context, viewer: Viewer): void {
    ctx.respond = false;
    const res = ctx.res;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    });
    res.write('retry: 2000\n\n');
    const answers = new Map<string, Promise<boolean>>();
    const hears = (o: KubeObject): Promise<boolean> => {
      const kind = LIVE_KINDS[o.kind ?? ''];
      if (!viewer.checkReads) return Promise.resolve(true);
      if (!kind) return Promise.resolve(false);
      const key = `${o.kind}/${o.metadata.namespace ?? ''}`;
      if (!answers.has(key))
        answers.set(
          key,
          visibleNamespaces(viewer, [o.metadata.namespace ?? ''], kind.group, kind.resource)
            .then((seen) => seen.size > 0)
            .catch(() => false),
        );
      return answers.get(key)!;
    };
    this.clients.set(res, hears);
    ctx.req.on('close', () => this.clients.delete(res));
  }

  private broadcast(o: KubeObject): void {
    const data = JSON.stringify({
      namespace: o.metadata.namespace ?? '',
      kind: o.kind ?? '',
      name: o.metadata.name ?? '',
    });
    for (const [res, hears] of this.clients)
      void hears(o).then((yes) => {
        if (yes && this.clients.has(res)) res.write(`event: change\ndata: ${data}\n\n`);
      });
  }
}

/** HTTP status and error code of a failed request. */
function classify(err: unknown): [number, string] {
  if (err instanceof ApiError) return [err.status, err.code];
  if (err instanceof Unauthenticated) return [401, 'UNAUTHENTICATED'];
  if (err instanceof Forbidden || isForbidden(err)) return [403, 'FORBIDDEN'];
  if (isTrellisError(err, 'TRL_ROLLBACK_NOT_FOUND') || isTrellisError(err, 'TRL_ROLLBACK_COMPONENT'))
    return [404, err.code];
  if (isTrellisError(err, 'TRL_ROLLBACK_REVISION')) return [400, err.code];
  if (isNotFound(err)) return [404, 'NOT_FOUND'];
  if (isConflict(err)) return [409, 'CONFLICT'];
  if (isTrellisError(err)) return [500, err.code];
  return [500, 'INTERNAL'];
}

/** The request's JSON body (at most {@link MAX_BODY} bytes); 400 when it is not JSON. */
async function readJson(ctx: Koa.Context): Promise<unknown> {
  if (!ctx.is('application/json'))
    throw new ApiError(415, 'BAD_REQUEST', 'send the body as JSON (Content-Type: application/json)');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new ApiError(413, 'BAD_REQUEST', `the body is larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as unknown;
  } catch (err) {
    throw new ApiError(400, 'BAD_REQUEST', `the body is not JSON: ${messageOf(err)}`);
  }
}
