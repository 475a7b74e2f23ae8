import { createReadStream, existsSync, statSync, watch } from 'node:fs';
import { open } from 'node:fs/promises';
import type http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority } from '../../lib/pki.js';

export interface LogServerOptions {
  host: string;
  /** The output file of a pod's instance (`namespace`, `pod`), or undefined when this runner does not run it. */
  logFile(namespace: string, pod: string): string | undefined;
}

/**
 * The part of a kubelet's API the API server proxies `pods/log` to: `GET /containerLogs/<ns>/<pod>/<container>`
 * with `tailLines` and `follow`, served over HTTPS (a self-signed certificate: the API server
 * checks kubelet certificates only when given `--kubelet-certificate-authority`). So `kubectl logs` and
 * `trellis logs` read a local instance's output as they read a container's. The runner's Node reports the
 * port as `status.daemonEndpoints.kubeletEndpoint.Port`.
 *
 * Local instances write their output as is, without timestamps: `sinceSeconds`/`sinceTime`/`timestamps`
 * are answered 400 with that reason rather than ignored.
 */
export class LogServer {
  private server: https.Server | undefined;

  constructor(private readonly options: LogServerOptions) {}

  /** Listens on a free port of `host`; resolves with it. */
  async start(): Promise<number> {
    const ca = createCertificateAuthority('trellis-local-runner');
    const { cert, key } = ca.issue({ commonName: 'trellis-local-runner', ipAddresses: [this.options.host] });
    const server = https.createServer({ cert, key }, (req, res) => void this.serve(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, this.options.host, resolve);
    });
    return (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'https://runner');
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    const fail = (status: number, message: string) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(message);
    };
    if (req.method !== 'GET' || !m) return fail(404, 'the Trellis local runner serves only /containerLogs');
    const [namespace, pod] = [decodeURIComponent(m[1]!), decodeURIComponent(m[2]!)];
    const q = url.searchParams;
    if (q.has('sinceSeconds') || q.has('sinceTime') || q.get('timestamps') === 'true')
      return fail(400, 'local instance output has no timestamps: --since and --timestamps cannot be applied to it');
    const file = this.options.logFile(namespace, pod);
    if (!file) return fail(404, `pod ${namespace}/${pod} does not run on this local runner`);
    res.writeHead(200, { 'content-type': 'text/plain' });
    if (!existsSync(file) && q.get('follow') !== 'true') return void res.end();
    const start = await startOffset(file, Number(q.get('tailLines') ?? -1));
    if (q.get('follow') !== 'true') {
      createReadStream(file, { start })
        .on('error', () => res.end())
        .pipe(res);
      return;
    }
    follow(file, start, res);
  }
}

/** Where to start reading: the start of the last `tail` lines (all when negative). */
async function startOffset(file: string, tail: number): Promise<number> {
  if (!existsSync(file) || tail < 0) return 0;
  const size = statSync(file).size;
  if (tail === 0) return size;
  const handle = await open(file, 'r');
  try {
    const chunk = 64 * 1024;
    let pos = size;
    let newlines = 0;
    const buf = Buffer.alloc(chunk);
    // A file ending without a newline has an unfinished last line: count it as one.
    while (pos > 0) {
      const len = Math.min(chunk, pos);
      pos -= len;
      await handle.read(buf, 0, len, pos);
      for (let i = len - 1; i >= 0; i--) {
        if (buf[i] !== 0x0a || pos + i === size - 1) continue;
        if (++newlines === tail) return pos + i + 1;
      }
    }
    return 0;
  } finally {
    await handle.close();
  }
}

/** Streams the file from `start` and what is appended to it until the client goes away. */
function follow(file: string, start: number, res: http.ServerResponse): void {
  let offset = start;
  let reading = false;
  let again = false;
  const pump = () => {
    if (reading) return void (again = true);
    if (!existsSync(file)) return;
    const size = statSync(file).size;
    if (size < offset) offset = 0; // truncated
    if (size === offset) return;
    reading = true;
    const stream = createReadStream(file, { start: offset, end: size - 1 });
    stream.on('data', (chunk) => res.write(chunk));
    stream.on('close', () => {
      offset = size;
      reading = false;
      if (again) {
        again = false;
        pump();
      }
    });
  };
  pump();
  // fs.watch misses events on some filesystems: a slow poll backs it up.
  const watcher = existsSync(file) ? watch(file, pump) : undefined;
  const timer = setInterval(pump, 500);
  res.on('close', () => {
    watcher?.close();
    clearInterval(timer);
  });
}
