import net from 'node:net';

/**
 * A TCP port that was free on `host` a moment ago (bind to 0, read, close). Another process may take
 * it before the caller listens on it: retry on EADDRINUSE where that matters.
 *
 * @default host '127.0.0.1'
 * @example const port = await freePort()
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
