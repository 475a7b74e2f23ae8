import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GitHttpServerOptions {
  /** Folder whose bare repositories are served: `http://127.0.0.1:<port>/<name>.git`. */
  projectRoot: string;
  /** Basic auth every request must carry. @default none (anonymous) */
  auth?: { username: string; password: string };
  /** Hold every authorized request this long before answering (to observe clients mid-fetch). @default 0 */
  delayMs?: number;
}

/** What a request to the server looked like, for assertions. */
export interface SeenRequest {
  method: string;
  url: string;
  authorized: boolean;
  /** The raw request line and headers, as received. */
  raw: string;
}

/**
 * Real git over real HTTP: `git http-backend` (git's smart HTTP CGI program) behind a Node HTTP
 * server on 127.0.0.1 that demands basic auth. Nothing is simulated: clients speak git's
 * protocol v2 to the real backend.
 *
 * @example
 *   const server = await GitHttpServer.start({ projectRoot: repo.root, auth: { username: 'bob', password: 's3cret' } })
 *   server.urlFor('apps.git') // http://127.0.0.1:41234/apps.git
 */
export class GitHttpServer {
  readonly requests: SeenRequest[] = [];
  private constructor(
    private readonly server: http.Server,
    readonly port: number,
  ) {}

  static async start(options: GitHttpServerOptions): Promise<GitHttpServer> {
    const requests: SeenRequest[] = [];
    const server = http.createServer((req, res) => {
      const raw = `${req.method} ${req.url}\n${Object.entries(req.headers)
        .map(([k, v]) => `${k}: ${String(v)}`)
        .join('\n')}`;
      const expected = options.auth
        ? `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`
        : undefined;
      const authorized = !expected || req.headers.authorization === expected;
      requests.push({ method: req.method ?? '', url: req.url ?? '', authorized, raw });
      if (!authorized) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end('authentication required\n');
        return;
      }
      const serve = () => backend(req, res, options);
      if (options.delayMs) setTimeout(serve, options.delayMs);
      else serve();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const instance = new GitHttpServer(server, (server.address() as AddressInfo).port);
    (instance as { requests: SeenRequest[] }).requests = requests;
    return instance;
  }

  /** URL of a repository under the project root, e.g. `urlFor('apps.git')`. */
  urlFor(name: string): string {
    return `http://127.0.0.1:${this.port}/${name}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function backend(req: http.IncomingMessage, res: http.ServerResponse, options: GitHttpServerOptions): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const cgi = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: options.projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      REQUEST_METHOD: req.method,
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: '127.0.0.1',
      REMOTE_USER: options.auth?.username ?? '',
      GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
      HTTP_CONTENT_ENCODING: String(req.headers['content-encoding'] ?? ''),
    } as NodeJS.ProcessEnv,
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  req.pipe(cgi.stdin);
  let head = Buffer.alloc(0);
  let headersDone = false;
  cgi.stdout.on('data', (chunk: Buffer) => {
    if (headersDone) return void res.write(chunk);
    head = Buffer.concat([head, chunk]);
    const end =
      head.indexOf('\r\n\r\n') >= 0
        ? head.indexOf('\r\n\r\n') + 4
        : head.indexOf('\n\n') >= 0
          ? head.indexOf('\n\n') + 2
          : -1;
    if (end < 0) return;
    headersDone = true;
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/).filter(Boolean)) {
      const colon = line.indexOf(':');
      const [k, v] = [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
      if (k.toLowerCase() === 'status') status = Number(v.split(' ')[0]);
      else headers[k] = v;
    }
    res.writeHead(status, headers);
    res.write(head.subarray(end));
  });
  cgi.on('close', () => res.end());
  cgi.on('error', () => res.writeHead(500).end());
}
