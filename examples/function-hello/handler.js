// A function handler: answers "hello" on $PORT. Run it alone with `PORT=8080 node handler.js`;
// Trellis runs it through the Function of function.yaml (see README.md next to this file).
import http from 'node:http';

const server = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('hello\n');
});

// Finish the requests in flight, then exit: what Kubernetes (and the local runner) ask with SIGTERM.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
server.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? '127.0.0.1');
