/**
 * Child process of `bench:serverless`: the floor any Node proxy pays — a minimal keep-alive
 * reverse proxy (no routing, metrics, queue or retries) in front of one instance. Started with
 * `node --import tsx plain-proxy.ts <instance port>`; sends `{ port }` over IPC, stops on `stop`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const instancePort = Number(process.argv[2]);
if (!Number.isInteger(instancePort) || instancePort <= 0)
  throw new Error(`usage: plain-proxy.ts <instance port>, got ${process.argv[2]}`);

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const server = http.createServer({ keepAlive: true }, (req, res) => {
  const up = http.request(
    { host: '127.0.0.1', port: instancePort, method: req.method, path: req.url, headers: req.headers, agent },
    (ures) => {
      res.writeHead(ures.statusCode ?? 502, ures.headers);
      ures.pipe(res);
    },
  );
  up.on('error', () => res.destroy());
  req.pipe(up);
});
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
process.on('message', (m) => {
  if (m !== 'stop') return;
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
