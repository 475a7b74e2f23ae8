import http from 'node:http';
import type { KubeClient, KubeObject } from '../kube/index.js';
import { TrellisError } from '../lib/errors.js';
import { readStdin } from './args.js';
import type { CommandIO } from './command.js';
import { UsageError } from './command.js';
import type { FunctionView } from './fn.js';

/** `trellis fn invoke`'s own options (parsed with the others by cli/fn.ts). */
export const INVOKE_OPTIONS = {
  method: { type: 'string', short: 'X' },
  header: { type: 'string', short: 'H', multiple: true },
  path: { type: 'string' },
  include: { type: 'boolean', short: 'i' },
} as const;

/** What one call answered. */
interface Answer {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: Buffer;
}

/**
 * Sends one request to the Function and prints the answer; exit 0 for a 2xx answer, else 1 (with
 * TRL_FN_INVOKE on stderr). The way in: a Function whose `status.url` is on loopback (`*.localhost`,
 * as `trellis up` and a local `trellis serverless` publish it) is called there, with that Host; any
 * other through the API server's service proxy of its own Service, so the caller needs nothing but
 * the kubeconfig (RBAC: `services/proxy` get/create in the namespace).
 */
export async function invokeFunction(
  kube: KubeClient,
  fn: FunctionView,
  values: { method?: string; header?: string[]; path?: string; include?: boolean },
  io: CommandIO,
): Promise<number> {
  const object = `Function/${fn.metadata.namespace}/${fn.metadata.name}`;
  const headers = parseHeaders(values.header ?? []);
  const stdin = io.in && !(io.in as { isTTY?: boolean }).isTTY ? await readStdin(io) : '';
  const method = (values.method ?? (stdin ? 'POST' : 'GET')).toUpperCase();
  const path = values.path ?? '/';
  if (!path.startsWith('/')) throw new UsageError(`--path must start with "/", got "${path}"`);
  const body = stdin && !['GET', 'HEAD'].includes(method) ? stdin : undefined;
  const local = loopbackUrl(fn.status?.url);
  let answer: Answer;
  let via: string;
  if (local) {
    via = `${local.origin}${path}`;
    answer = await callLoopback(local, path, { method, headers, body }).catch((err: unknown) => {
      throw new TrellisError(
        'TRL_FN_UNREACHABLE',
        `cannot reach its activator at ${local.origin} (${(err as Error).message}): is \`trellis up\` (or \`trellis serverless\`) still running?`,
        { object, cause: err },
      );
    });
  } else {
    const send = async (proxyPath: string): Promise<Answer> =>
      collect(
        await kube.raw(proxyPath, {
          method,
          headers,
          ...(body !== undefined ? { body, contentType: headers['content-type'] ?? 'application/octet-stream' } : {}),
          timeoutMs: 0,
        }),
      );
    const namespace = fn.metadata.namespace!;
    let proxyPath = serviceProxyPath(namespace, fn.metadata.name!, path);
    answer = await send(proxyPath);
    // The Function's own Service has no selector: the activators publish its endpoints as EndpointSlices,
    // which the API server's service proxy does not read (it reads Endpoints). Then go through the
    // activator's own Service (the chart's), by the Function's path.
    const activator = answeredByApiServer(answer) ? await activatorService(kube) : undefined;
    if (activator) {
      const prefix = (fn.status?.path ?? `/${namespace}/${fn.metadata.name}/`).replace(/\/$/, '');
      proxyPath = serviceProxyPath(activator.metadata.namespace!, activator.metadata.name!, `${prefix}${path}`);
      answer = await send(proxyPath);
    }
    via = `the API server's service proxy (${proxyPath})`;
  }
  if (values.include) {
    io.out.write(`HTTP/1.1 ${answer.status} ${answer.statusText}\n`);
    for (const [k, v] of answer.headers) io.out.write(`${k}: ${v}\n`);
    io.out.write('\n');
  }
  io.out.write(answer.body);
  if (answer.status >= 200 && answer.status < 300) return 0;
  const text = reasonOf(answer.body);
  io.err.write(
    `error: [TRL_FN_INVOKE] ${object}: answered ${answer.status} ${answer.statusText} through ${via}${text ? `: ${text}` : ''}\n`,
  );
  return 1;
}

const serviceProxyPath = (namespace: string, service: string, path: string): string =>
  `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(service)}:http/proxy${path}`;

/** The chart's activator Service (labels `app.kubernetes.io/name=trellis`, `component=activator`), if one is visible. */
async function activatorService(kube: KubeClient): Promise<KubeObject | undefined> {
  const { items } = await kube
    .list('v1', 'Service', { labelSelector: 'app.kubernetes.io/name=trellis,app.kubernetes.io/component=activator' })
    .catch(() => ({ items: [] as KubeObject[] }));
  return items[0];
}

/** The API server answered for the proxy itself (no such Service, no endpoints), not the Function. */
function answeredByApiServer(answer: Answer): boolean {
  if (answer.status !== 404 && answer.status !== 503) return false;
  try {
    return (JSON.parse(answer.body.toString('utf8')) as { kind?: string }).kind === 'Status';
  } catch {
    return false;
  }
}

/** The first line of an answer, or the message of a Kubernetes Status (what the API server's proxy answers itself). */
function reasonOf(body: Buffer): string {
  const text = body.toString('utf8').trim();
  try {
    const status = JSON.parse(text) as { kind?: string; message?: string };
    if (status.kind === 'Status' && status.message) return status.message;
  } catch {
    // not JSON: the function's own text
  }
  return text.split('\n')[0]!.slice(0, 200);
}

/** `-H 'Name: value'` lines as headers (names lower-cased); a line without a colon is a usage error. */
function parseHeaders(lines: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new UsageError(`-H needs "Name: value", got "${line}"`);
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** The Function's URL when it is served on this machine (`*.localhost`, `localhost`, 127.0.0.0/8). */
function loopbackUrl(url: string | undefined): URL | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    const host = u.hostname;
    return host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) ? u : undefined;
  } catch {
    return undefined;
  }
}

/** One request to 127.0.0.1 at the URL's port, with the URL's host as Host (so `*.localhost` needs no DNS). */
function callLoopback(
  url: URL,
  path: string,
  options: { method: string; headers: Record<string, string>; body: string | undefined },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: url.port || 80,
        path,
        method: options.method,
        headers: { host: url.host, ...options.headers },
        agent: false,
      },
      (res) => void collect(res).then(resolve, reject),
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

async function collect(res: http.IncomingMessage): Promise<Answer> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const headers: [string, string][] = [];
  for (let i = 0; i < res.rawHeaders.length; i += 2) headers.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
  return {
    status: res.statusCode ?? 0,
    statusText: res.statusMessage ?? http.STATUS_CODES[res.statusCode ?? 0] ?? '',
    headers,
    body: Buffer.concat(chunks),
  };
}
