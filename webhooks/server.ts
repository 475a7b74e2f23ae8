import https from 'node:https';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { TrellisError } from '../lib/errors.js';
import { silentLogger, type Logger } from '../lib/log.js';
import { allowedResponse, describeRequestObject, reviewOf, type AdmissionReview } from './admission.js';
import { CertificateReloader, type CertificateFiles } from './certificate-reloader.js';
import { installErrorFunnel, type ReviewState } from './funnel.js';
import type { AdmissionHandler } from './handler.js';
import { WebhookMetrics } from './metrics.js';

export interface WebhookServerOptions {
  handlers: AdmissionHandler[];
  /** Serving certificate and key files; reloaded when they change. */
  tls: CertificateFiles & { pollMs?: number };
  /** @default '0.0.0.0' */
  host?: string;
  /** 0 picks a free port (see {@link WebhookServer.port}). @default 9443 */
  port?: number;
  logger?: Logger;
  /** @default a new registry */
  metrics?: WebhookMetrics;
  /** Largest AdmissionReview accepted. @default 6 MiB (a 3 MiB object plus its old version) */
  maxBodyBytes?: number;
}

/**
 * The admission webhook server: koa over HTTPS. `POST /<handler name>` answers AdmissionReviews;
 * `GET /healthz` and `/readyz` answer `ok` while it serves (it listens only once its handlers are
 * ready); `GET /metrics` is Prometheus text. The serving certificate is
 * reloaded from disk when it changes, without dropping connections.
 *
 * @example
 *   const server = new WebhookServer({ handlers, tls: { certFile, keyFile }, port: 0, host: '127.0.0.1' })
 *   await server.start()   // https://127.0.0.1:${server.port}/mutate-components
 */
export class WebhookServer {
  readonly metrics: WebhookMetrics;
  private readonly logger: Logger;
  private readonly app: Koa;
  private server: https.Server | undefined;
  private reloader: CertificateReloader | undefined;

  constructor(private readonly options: WebhookServerOptions) {
    this.logger = options.logger ?? silentLogger;
    this.metrics = options.metrics ?? new WebhookMetrics();
    this.app = this.buildApp();
  }

  /** The port it listens on. Valid after {@link start}. */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async start(): Promise<void> {
    this.reloader = new CertificateReloader({
      ...this.options.tls,
      logger: this.logger,
      onChange: (pair) => {
        this.server?.setSecureContext(pair);
        this.metrics.certificateReloads.inc({ outcome: 'loaded' });
        this.logger.info({ certFile: this.options.tls.certFile }, 'serving certificate reloaded');
      },
      onReject: (err) => {
        this.metrics.certificateReloads.inc({ outcome: 'rejected' });
        this.logger.warn(
          { err: err.message },
          'serving certificate files changed but are not usable; keeping the previous pair',
        );
      },
    });
    const pair = await this.reloader.load();
    const server = https.createServer({ ...pair, minVersion: 'TLSv1.2' }, this.app.callback());
    server.keepAliveTimeout = 60_000;
    server.on('secureConnection', () => this.metrics.connections.inc());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 9443, this.options.host ?? '0.0.0.0', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.reloader.start();
    this.logger.info(
      { port: this.port, webhooks: this.options.handlers.map((h) => h.name) },
      'webhook server listening',
    );
  }

  /** Stops accepting connections and closes idle ones; resolves when the server is closed. */
  async stop(): Promise<void> {
    this.reloader?.stop();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }

  /** Re-reads the certificate files now (they are also watched). */
  reloadCertificate(): Promise<void> {
    return this.reloader?.check() ?? Promise.resolve();
  }

  private buildApp(): Koa {
    const app = new Koa();
    installErrorFunnel(app, { logger: this.logger, metrics: this.metrics });
    const handlers = new Map(this.options.handlers.map((h) => [`/${h.name}`, h]));
    const maxBody = this.options.maxBodyBytes ?? 6 * 1024 * 1024;
    app.use(async (ctx) => {
      if (ctx.method === 'GET' && (ctx.path === '/healthz' || ctx.path === '/readyz')) {
        ctx.body = 'ok';
        return;
      }
      if (ctx.method === 'GET' && ctx.path === '/metrics') {
        ctx.type = this.metrics.registry.contentType;
        ctx.body = await this.metrics.registry.metrics();
        return;
      }
      const handler = handlers.get(ctx.path);
      if (!handler)
        throw Object.assign(new Error(`no webhook at ${ctx.path}; serving ${[...handlers.keys()].join(', ')}`), {
          status: 404,
        });
      if (ctx.method !== 'POST')
        throw Object.assign(new Error(`${ctx.path} accepts POST of an AdmissionReview`), { status: 405 });
      const started = process.hrtime.bigint();
      const review = parseReview(await readBody(ctx.req, maxBody));
      const request = review.request!;
      const state: ReviewState = {
        uid: request.uid,
        webhook: handler.name,
        operation: request.operation,
        object: describeRequestObject(request),
        started,
      };
      ctx.state.review = state;
      const admission = await handler.handle(request);
      ctx.type = 'application/json';
      ctx.body = JSON.stringify(reviewOf(allowedResponse(request.uid, admission)));
      this.metrics.duration.observe(
        { webhook: handler.name, operation: request.operation, outcome: 'allowed' },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    });
    return app;
  }
}

function readBody(req: NodeJS.ReadableStream, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(Object.assign(new Error(`AdmissionReview larger than ${limit} bytes`), { status: 413 }));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseReview(body: string): AdmissionReview {
  let review: AdmissionReview;
  try {
    review = JSON.parse(body) as AdmissionReview;
  } catch (err) {
    throw Object.assign(new TrellisError('TRL_WEBHOOK_REVIEW', `the body is not JSON: ${(err as Error).message}`), {
      status: 400,
    });
  }
  if (review?.kind !== 'AdmissionReview' || review.apiVersion !== 'admission.k8s.io/v1' || !review.request?.uid) {
    throw Object.assign(
      new TrellisError('TRL_WEBHOOK_REVIEW', 'expected an admission.k8s.io/v1 AdmissionReview with a request.uid'),
      { status: 400 },
    );
  }
  return review;
}
