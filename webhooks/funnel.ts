import type Koa from 'koa';
import { isTrellisError, messageOf } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { deniedResponse, reviewOf, type AdmissionStatus } from './admission.js';
import type { WebhookMetrics } from './metrics.js';

/** What the admission route records before calling a handler, so the funnel can answer the review. */
export interface ReviewState {
  uid: string;
  webhook: string;
  operation: string;
  object: string;
  started: bigint;
}

/**
 * HTTP status and reason of a denial: what the user wrote is 422 Invalid (as Kubernetes' own
 * validation, immutable fields included), an unreadable review its own 4xx, anything unexpected 500.
 */
export function statusFor(err: unknown): AdmissionStatus {
  const status = (err as { status?: number } | undefined)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500)
    return { code: status, reason: 'BadRequest', message: messageOf(err) };
  if (isTrellisError(err)) return { code: 422, reason: 'Invalid', message: err.message };
  return {
    code: 500,
    reason: 'InternalError',
    message: `[TRL_WEBHOOK_INTERNAL] internal error, try again: ${messageOf(err)}`,
  };
}

/**
 * The one error funnel (STYLE.md): installed as koa's `ctx.onerror`, it turns anything thrown while
 * answering a review into a denied AdmissionReview (HTTP 200, so the API server reads it) whose
 * status carries the code and a readable message naming object, field and reason. Outside a review
 * (an unreadable body, an unknown path) it answers plain JSON with the error's status.
 */
export function installErrorFunnel(app: Koa, options: { logger: Logger; metrics: WebhookMetrics }): void {
  const { logger, metrics } = options;
  app.context.onerror = function onerror(this: Koa.Context, raw: unknown) {
    if (raw == null) return;
    const err = raw instanceof Error ? raw : new Error(`non-error thrown: ${String(raw)}`);
    if (this.headerSent || !this.writable) {
      logger.warn({ err: messageOf(err) }, 'error after the response was sent');
      return;
    }
    const review = this.state.review as ReviewState | undefined;
    const status = statusFor(err);
    let body: string;
    if (review) {
      const outcome = status.code >= 500 ? 'error' : 'denied';
      const seconds = Number(process.hrtime.bigint() - review.started) / 1e9;
      metrics.duration.observe({ webhook: review.webhook, operation: review.operation, outcome }, seconds);
      metrics.denials.inc({
        webhook: review.webhook,
        code: isTrellisError(err) ? err.code : status.code >= 500 ? 'TRL_WEBHOOK_INTERNAL' : 'TRL_WEBHOOK_REVIEW',
      });
      const log = {
        webhook: review.webhook,
        object: review.object,
        operation: review.operation,
        code: status.code,
        message: status.message,
      };
      if (outcome === 'error') logger.error({ ...log, stack: err.stack }, 'admission failed');
      else logger.info(log, 'admission denied');
      this.res.statusCode = 200;
      body = JSON.stringify(reviewOf(deniedResponse(review.uid, status)));
    } else {
      logger.warn({ path: this.path, code: status.code, message: status.message }, 'request failed');
      this.res.statusCode = status.code;
      body = JSON.stringify({ code: status.code, reason: status.reason, message: status.message });
    }
    for (const name of this.res.getHeaderNames()) this.res.removeHeader(name);
    this.res.setHeader('Content-Type', 'application/json');
    this.res.setHeader('Content-Length', Buffer.byteLength(body));
    this.res.end(body);
  };
}
