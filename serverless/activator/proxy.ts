import http from 'node:http';
import { PROXIED_HEADER } from '../meter/instance-meter.js';
import { BodyReplay } from './body-replay.js';
import { HoldError } from './hold-queue.js';
import type { RevisionTraffic } from './revision-traffic.js';
import type { Instance } from './instance.js';

const MAX_RETRIES = 3;

/** Headers one hop must not pass on (RFC 9110 §7.6.1). */
const RFC_HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
]);
/** ... and what the activator sets itself. */
const HOP_BY_HOP = new Set([...RFC_HOP_BY_HOP, 'x-forwarded-for', PROXIED_HEADER]);

/** An answer the activator gives itself, with the code from docs/errors.md. */
export function sendError(res: http.ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-trellis-error': code,
  });
  res.end(body);
}

/**
 * A request's `spec.timeoutSeconds` passed: 504 with `code` when no answer started, else the answer
 * is cut (a client must not take half an answer for a whole one).
 */
export function sendTimeout(res: http.ServerResponse, code: string, timeoutMs: number): void {
  sendError(
    res,
    504,
    code,
    `the function did not answer within ${Math.round(timeoutMs / 1000)} s (spec.timeoutSeconds)`,
  );
}

/**
 * The headers a request is forwarded with: the client's, less hop-by-hop ones and any
 * `x-trellis-activator` it sent, plus `x-forwarded-*`. `proxied` (default true): marked as the
 * activator's, so the instance's meter leaves it to the activator's (docs/adr/0017).
 */
export function requestHeaders(req: http.IncomingMessage, prefix: string | undefined, proxied = true): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  let xff = '';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.length <= 19 ? name.toLowerCase() : '';
    if (lower === 'x-forwarded-for') xff = xff ? `${xff}, ${raw[i + 1]}` : raw[i + 1]!;
    if (HOP_BY_HOP.has(lower)) continue;
    out.push(name, raw[i + 1]!);
  }
  const remote = req.socket.remoteAddress ?? '';
  out.push('x-forwarded-for', xff ? `${xff}, ${remote}` : remote, 'x-forwarded-proto', 'http');
  if (req.headers.host) out.push('x-forwarded-host', req.headers.host);
  if (prefix) out.push('x-forwarded-prefix', prefix);
  // The instance's own meter leaves this request to the activator's (counted once).
  if (proxied) out.push(PROXIED_HEADER, '1');
  return out;
}

/** An upstream answer's headers, less hop-by-hop ones. */
export function responseHeaders(raw: string[]): string[] {
  return without(raw, HOP_BY_HOP);
}

/**
 * Raw headers less RFC 9110's hop-by-hop ones only — what a proxy inside the pod (the queue-proxy)
 * passes on: `x-forwarded-*` and the activator's mark reach the function as sent.
 */
export function endToEndHeaders(raw: string[]): string[] {
  return without(raw, RFC_HOP_BY_HOP);
}

function without(raw: string[], names: Set<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length <= 19 && names.has(name.toLowerCase())) continue;
    out.push(name, raw[i + 1]!);
  }
  return out;
}

export interface ProxyRequest {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  /** Path (and query) the instance sees. */
  path: string;
  /** Path prefix the activator stripped (sent as `x-forwarded-prefix`). */
  prefix?: string;
  traffic: RevisionTraffic;
  /** Acquired for this request (its in-flight count includes it). */
  instance: Instance;
  timeoutMs: number;
  /** Called once, after the instance is released. */
  done(status: number): void;
}

/**
 * Forwards one request to its instance over the instance's keep-alive pool, streaming the body
 * both ways. A connection the instance refused, or a pooled socket it had just closed, is retried
 * (on another instance, or after waiting in the hold queue) as long as no answer started and the
 * body sent so far fits the replay buffer. Answers 504 when the instance takes longer than
 * `timeoutMs`, 502 when it fails otherwise.
 */
export function proxy(p: ProxyRequest): void {
  const { req, res, traffic } = p;
  const headers = requestHeaders(req, p.prefix);
  const body = new BodyReplay(req);
  let instance: Instance | undefined = p.instance;
  let upstream: http.ClientRequest | undefined;
  let answer: http.IncomingMessage | undefined;
  let responded = false;
  let finished = false;
  let retries = 0;
  let status = 0;
  const deadline = Date.now() + p.timeoutMs;

  const timer = setTimeout(() => {
    if (responded) res.destroy();
    else {
      status = 504;
      sendTimeout(res, 'TRL_ACTIVATOR_UPSTREAM_TIMEOUT', p.timeoutMs);
    }
    upstream?.destroy();
  }, p.timeoutMs);

  const finish = () => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    // The client went away mid-answer: drop the connection rather than return a busy socket to the pool.
    if (upstream && !(answer?.complete && upstream.writableFinished)) upstream.destroy();
    if (instance) traffic.release(instance);
    instance = undefined;
    p.done(status || (res.headersSent ? res.statusCode : 499));
  };
  res.once('close', finish);

  const send = (inst: Instance) => {
    const up = http.request({
      host: inst.host,
      port: inst.port,
      method: req.method,
      path: p.path,
      headers,
      agent: inst.agent,
    });
    upstream = up;
    up.on('response', (ures) => {
      if (up !== upstream || finished) {
        ures.resume();
        return;
      }
      responded = true;
      answer = ures;
      body.release();
      status = ures.statusCode ?? 502;
      res.writeHead(status, ures.statusMessage, responseHeaders(ures.rawHeaders));
      ures.pipe(res);
      ures.on('aborted', () => res.destroy());
      ures.on('error', () => res.destroy());
    });
    up.on('error', (err: NodeJS.ErrnoException) => onError(up, inst, err));
    body.sendTo(up);
  };

  const onError = (up: http.ClientRequest, inst: Instance, err: NodeJS.ErrnoException) => {
    if (up !== upstream || finished) return;
    if (responded) {
      res.destroy();
      return;
    }
    const refused = err.code === 'ECONNREFUSED';
    const staleSocket = up.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
    if ((refused || staleSocket) && body.replayable && retries < MAX_RETRIES) {
      retries++;
      body.detach(up);
      up.destroy();
      if (refused) traffic.suspect(inst);
      traffic.release(inst);
      instance = undefined;
      upstream = undefined;
      const next = traffic.acquire();
      if (next) {
        instance = next;
        send(next);
        return;
      }
      traffic.hold(Math.max(1, deadline - Date.now()), { onCancel: (cb) => res.once('close', cb) }).then(
        (held) => {
          if (finished) traffic.release(held);
          else {
            instance = held;
            send(held);
          }
        },
        (e: unknown) => {
          if (finished) return;
          status = e instanceof HoldError && e.why === 'overflow' ? 503 : 504;
          sendError(
            res,
            status,
            status === 503 ? 'TRL_ACTIVATOR_QUEUE_FULL' : 'TRL_ACTIVATOR_TIMEOUT',
            `no instance of the function could take the request: ${err.code}`,
          );
        },
      );
      return;
    }
    status = 502;
    sendError(
      res,
      502,
      'TRL_ACTIVATOR_BAD_GATEWAY',
      `the function's instance ${inst.id} failed: ${err.code ?? err.message}`,
    );
  };

  send(instance);
}
