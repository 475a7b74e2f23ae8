// The function of examples/rollout-function: answers $GREETING on $PORT with HTTP status $STATUS
// (200 unless set — set it to 500 to ship a broken change and watch the rollout take it back).
import http from 'node:http';

const status = Number(process.env.STATUS ?? 200);
const server = http.createServer((req, res) => {
  req.resume();
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(`${process.env.GREETING ?? 'hello'}\n`);
});

// Finish the requests in flight, then exit: what Kubernetes (and the local runner) ask with SIGTERM.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
server.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? '127.0.0.1');
