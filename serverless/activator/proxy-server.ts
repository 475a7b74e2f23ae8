import http from 'node:http';

/**
 * The HTTP server of a proxy in front of function instances (the activator, the local router):
 * keep-alive longer than common clients' idle timeouts (65 s, as load balancers expect), and no
 * request timeout — the proxy enforces the Function's own per request.
 */
export function proxyServer(handle: (req: http.IncomingMessage, res: http.ServerResponse) => void): http.Server {
  const server = http.createServer({ keepAlive: true }, handle);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;
  return server;
}

/** Listens on `host:port` (port 0: any free one); rejects with the listen error (e.g. the port is taken). */
export function listenOn(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
}
