/**
 * The socket pool to one API server, with what a kubeconfig cluster asks of the connection:
 * its CA, a client certificate, `tls-server-name` (the name the certificate is checked against,
 * sent in SNI) and `proxy-url` — an `http://` or `https://` proxy (a CONNECT tunnel, as kubectl
 * opens one) or a `socks5://` one.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { KubeConnectionError } from './errors.js';
import type { ClusterConfig } from './kubeconfig.js';

export interface AgentOptions {
  cluster: ClusterConfig;
  cert?: Buffer;
  key?: Buffer;
  /** @default 64 */
  maxSockets?: number;
}

type Callback = (err: Error | null, socket?: Duplex) => void;

/** The agent for requests to `cluster.server`. */
export function createAgent(options: AgentOptions): http.Agent {
  const { cluster } = options;
  const server = new URL(cluster.server);
  const base = { keepAlive: true, maxSockets: options.maxSockets ?? 64 };
  if (server.protocol !== 'https:') {
    return cluster.proxyUrl ? new TunnelHttpAgent(base, new URL(cluster.proxyUrl)) : new http.Agent(base);
  }
  const tlsOptions: https.AgentOptions = {
    ...base,
    ...(cluster.ca ? { ca: cluster.ca } : {}),
    ...(options.cert ? { cert: options.cert } : {}),
    ...(options.key ? { key: options.key } : {}),
    ...(cluster.insecureSkipTlsVerify ? { rejectUnauthorized: false } : {}),
    ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
  };
  return cluster.proxyUrl ? new TunnelHttpsAgent(tlsOptions, new URL(cluster.proxyUrl)) : new https.Agent(tlsOptions);
}

/** HTTPS through a proxy: a tunnel to the server, then TLS inside it. */
class TunnelHttpsAgent extends https.Agent {
  constructor(
    options: https.AgentOptions,
    private readonly proxy: URL,
  ) {
    super(options);
  }

  // Node's Agent calls this with the merged agent and request options; an async answer goes to `callback`.
  override createConnection(
    options: tls.ConnectionOptions & { host?: string; port?: number },
    callback: Callback,
  ): undefined {
    openTunnel(this.proxy, options.host ?? 'localhost', Number(options.port ?? 443)).then(
      (socket) => {
        const secure = tls.connect({
          ...options,
          socket,
          servername: options.servername ?? options.host ?? 'localhost',
        });
        secure.once('secureConnect', () => callback(null, secure));
        secure.once('error', (err) => callback(err));
      },
      (err: Error) => callback(err),
    );
    return undefined;
  }
}

/** Plain HTTP through a proxy, as a tunnel too (every proxy kubectl users run supports CONNECT). */
class TunnelHttpAgent extends http.Agent {
  constructor(
    options: http.AgentOptions,
    private readonly proxy: URL,
  ) {
    super(options);
  }

  override createConnection(options: { host?: string; port?: number }, callback: Callback): undefined {
    openTunnel(this.proxy, options.host ?? 'localhost', Number(options.port ?? 80)).then(
      (socket) => callback(null, socket),
      (err: Error) => callback(err),
    );
    return undefined;
  }
}

/** A TCP stream to `host:port` through the proxy (CONNECT for http/https proxies, SOCKS5 for socks5). */
export async function openTunnel(proxy: URL, host: string, port: number): Promise<net.Socket | tls.TLSSocket> {
  const target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const fail = (reason: string, cause?: unknown) =>
    new KubeConnectionError(
      'TRL_KUBE_PROXY',
      `cannot reach the API server at ${target} through the proxy ${proxy.protocol}//${proxy.host}: ${reason} (the cluster's proxy-url in the kubeconfig)`,
      { cause, transient: true },
    );
  if (proxy.protocol === 'socks5:' || proxy.protocol === 'socks5h:' || proxy.protocol === 'socks:')
    return socks5(proxy, host, port).catch((err: Error) => Promise.reject(fail(err.message, err)));
  if (proxy.protocol !== 'http:' && proxy.protocol !== 'https:')
    throw fail(`proxy scheme "${proxy.protocol}" is not supported (http, https, socks5 are)`);
  return new Promise((resolve, reject) => {
    const auth = proxy.username
      ? {
          'proxy-authorization': `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`,
        }
      : {};
    const req = (proxy.protocol === 'https:' ? https : http).request({
      host: proxy.hostname,
      port: Number(proxy.port || (proxy.protocol === 'https:' ? 443 : 80)),
      method: 'CONNECT',
      path: target,
      headers: { host: target, ...auth },
      agent: false,
    });
    req.once('connect', (res, socket) => {
      if (res.statusCode === 200) return resolve(socket as net.Socket);
      socket.destroy();
      reject(fail(`the proxy answered ${res.statusCode} ${res.statusMessage ?? ''}`.trim()));
    });
    req.once('error', (err) => reject(fail(err.message, err)));
    req.end();
  });
}

/** A SOCKS5 CONNECT without authentication (or with username/password, RFC 1929). */
function socks5(proxy: URL, host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(proxy.port || 1080), proxy.hostname);
    let buffered = Buffer.alloc(0);
    let step: 'greeting' | 'auth' | 'connect' = 'greeting';
    const user = decodeURIComponent(proxy.username);
    const pass = decodeURIComponent(proxy.password);
    const sendConnect = () => {
      const name = Buffer.from(host);
      const p = Buffer.alloc(2);
      p.writeUInt16BE(port);
      socket.write(Buffer.concat([Buffer.from([5, 1, 0, 3, name.length]), name, p]));
      step = 'connect';
    };
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (step === 'greeting' && buffered.length >= 2) {
        const method = buffered[1];
        buffered = buffered.subarray(2);
        if (method === 0) return sendConnect();
        if (method === 2 && user) {
          socket.write(
            Buffer.concat([
              Buffer.from([1, user.length]),
              Buffer.from(user),
              Buffer.from([pass.length]),
              Buffer.from(pass),
            ]),
          );
          step = 'auth';
          return;
        }
        return done(new Error('the SOCKS proxy accepts none of our authentication methods'));
      }
      if (step === 'auth' && buffered.length >= 2) {
        const ok = buffered[1] === 0;
        buffered = buffered.subarray(2);
        return ok ? sendConnect() : done(new Error('the SOCKS proxy refused the username and password'));
      }
      if (step === 'connect' && buffered.length >= 5) {
        if (buffered[1] !== 0) return done(new Error(`the SOCKS proxy could not connect (reply ${buffered[1]})`));
        const length = buffered[3] === 1 ? 10 : buffered[3] === 4 ? 22 : 7 + buffered[4]!;
        if (buffered.length < length) return;
        socket.off('data', onData);
        if (buffered.length > length) socket.unshift(buffered.subarray(length));
        done();
      }
    };
    const done = (err?: Error) => {
      socket.off('error', done);
      if (err) {
        socket.destroy();
        reject(err);
      } else resolve(socket);
    };
    socket.on('data', onData);
    socket.once('error', done);
    socket.once('connect', () => socket.write(user ? Buffer.from([5, 2, 0, 2]) : Buffer.from([5, 1, 0])));
  });
}
