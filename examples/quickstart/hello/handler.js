// The quickstart's function: answers "hello from Trellis" on $PORT. Trellis starts it when a request
// arrives and stops it once nobody has called for a while (scale to zero).
import http from 'node:http';

const server = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('hello from Trellis\n');
});

// Finish the requests in flight, then exit: what Kubernetes (and the local runner) ask with SIGTERM.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
server.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? '127.0.0.1');
