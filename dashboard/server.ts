/**
 * `trellis dashboard`: a read-only web view of ApplicationConfigurations, their components, workloads,
 * traits, child objects and Events, updated live from watches (Server-Sent Events; the page fetches
 * itself again when something it shows changed — no polling loop). Speaks to the API server as the
 * user (the kubeconfig it is given), so it shows no more than their RBAC allows.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import Koa from 'koa';
import { Informer, type KubeClient, type KubeObject } from '../kube/index.js';
import { messageOf } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { packageRoot } from '../lib/paths.js';
import { appEvents, childView, type AppConfig } from './model.js';
import { appPage, appsPage, errorPage, type EventView } from './views.js';

export interface DashboardOptions {
  kube: KubeClient;
  logger: Logger;
  /** Address to listen on. @default '127.0.0.1' (loopback only) */
  host?: string;
  /** @default 0 (any free port; see {@link Dashboard.url}) */
  port?: number;
  /** Show one namespace only (for users who may not list across namespaces). @default all namespaces */
  namespace?: string;
}

/** A strict policy: nothing inline, nothing from elsewhere. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

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
  private readonly clients = new Set<http.ServerResponse>();
  private server: http.Server | undefined;

  constructor(private readonly options: DashboardOptions) {
    const namespace = options.namespace ? { namespace: options.namespace } : {};
    const logger = options.logger;
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
    await Promise.all([this.apps.start(), this.events.start()]);
    const app = new Koa();
    app.use(async (ctx, next) => {
      ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.set('Referrer-Policy', 'no-referrer');
      try {
        await next();
      } catch (err) {
        this.options.logger.warn({ err: messageOf(err), path: ctx.path }, 'dashboard request failed');
        ctx.status = 500;
        ctx.type = 'html';
        ctx.body = errorPage(500, messageOf(err));
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
    for (const res of this.clients) res.end();
    this.clients.clear();
    const server = this.server;
    this.server = undefined;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await Promise.all([this.apps.stop(), this.events.stop()]);
  }

  private async route(ctx: Koa.Context): Promise<void> {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.status = 405;
      ctx.set('Allow', 'GET, HEAD');
      return;
    }
    const asset = /^\/assets\/([\w.-]+)$/.exec(ctx.path)?.[1];
    if (asset && ASSETS[asset]) {
      ctx.type = ASSETS[asset];
      ctx.set('Cache-Control', 'no-cache');
      ctx.body = await readFile(path.join(packageRoot(), 'dashboard', 'assets', asset));
      return;
    }
    if (ctx.path === '/live') return this.live(ctx);
    if (ctx.path === '/healthz') {
      ctx.body = 'ok';
      return;
    }
    ctx.type = 'html';
    if (ctx.path === '/') {
      ctx.body = appsPage(this.apps.list());
      return;
    }
    const match = /^\/apps\/([^/]+)\/([^/]+)$/.exec(ctx.path);
    const app = match && this.apps.get(decodeURIComponent(match[2]!), decodeURIComponent(match[1]!));
    if (!app) {
      ctx.status = 404;
      ctx.body = errorPage(
        404,
        match
          ? `ApplicationConfiguration ${decodeURIComponent(match[1]!)}/${decodeURIComponent(match[2]!)} not found`
          : `no page ${ctx.path}`,
      );
      return;
    }
    ctx.body = appPage(await this.pageData(app));
  }

  private async pageData(app: AppConfig) {
    const ns = app.metadata.namespace!;
    const inventory = app.status?.inventory ?? [];
    const children = await Promise.all(
      inventory.map((e) => childView(this.options.kube, { ...e, namespace: e.namespace ?? ns })),
    );
    const events = appEvents(app, this.events.list()).reverse().slice(0, 50);
    return { app, children, events };
  }

  /** Server-Sent Events: one `change` message (`{namespace, kind, name}`) per watched change. */
  private live(ctx: Koa.Context): void {
    ctx.respond = false;
    const res = ctx.res;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    });
    res.write('retry: 2000\n\n');
    this.clients.add(res);
    ctx.req.on('close', () => this.clients.delete(res));
  }

  private broadcast(o: KubeObject): void {
    const data = JSON.stringify({
      namespace: o.metadata.namespace ?? '',
      kind: o.kind ?? '',
      name: o.metadata.name ?? '',
    });
    for (const res of this.clients) res.write(`event: change\ndata: ${data}\n\n`);
  }
}
