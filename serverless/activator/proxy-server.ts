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

/**
 * Stops a proxy's server gracefully: no new connections, idle keep-alive connections closed at once
 * (busy ones after their next answer), then up to `drainMs` for `busy()` to turn false (looked at
 * every 20 ms); `drained()` then ends whatever the proxy still holds, and every connection left is
 * closed. Resolves once the server is closed; with no server (never started), after the drain.
 *
 * @example
 *   await stopGracefully(server, { drainMs: 10_000, busy: () => this.inFlight > 0 })
 */
export async function stopGracefully(
  server: http.Server | undefined,
  o: { drainMs: number; busy: () => boolean; drained?: () => void },
): Promise<void> {
  const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
  server?.closeIdleConnections();
  const deadline = Date.now() + o.drainMs;
  while (Date.now() < deadline && o.busy()) await new Promise((r) => setTimeout(r, 20));
  o.drained?.();
  server?.closeAllConnections();
  await closed;
}
