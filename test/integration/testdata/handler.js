// A function handler for the serverless tests: listens on $PORT, answers with its pid and port.
//   GET  /sleep?ms=N   answers after N ms
//   POST /echo         streams the request body back
//   GET  /stream?chunks=N&ms=M   writes N chunks M ms apart
// LOG_REQUESTS=1 prints one line per request on stdout (`request GET /path`), for `trellis logs`.
// Each JSON answer says `via`: 'activator' when an activator forwarded it (x-trellis-activator), else 'direct'.
// ANSWER_STATUS=N answers /sleep and every other path with that status (a broken revision, for rollbacks).
//   GET  /ready        200 while ready, 503 after POST /ready?ok=false (a readiness probe that fails), until
//                      POST /ready?ok=true; every other path keeps answering.
// Answers name the address the request reached it at (`host`): a pod network's, 127.0.0.1 (through a
// sidecar in the pod, or on the local runner), whatever $HOST it listens on (0.0.0.0 in a pod network).
// SIGTERM: stops accepting and exits once in-flight requests are answered (what a good handler does);
// with ON_SIGTERM=exit it dies at once, cutting whatever it was serving (what a careless one does).
import http from 'node:http';

const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';
const startupDelay = Number(process.env.STARTUP_DELAY_MS ?? 0);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let ready = true;
const reachedAt = (req) => req.socket.localAddress?.replace(/^::ffff:/, '') ?? host;

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://handler');
  if (process.env.LOG_REQUESTS) console.log(`request ${req.method} ${url.pathname}`);
  if (url.pathname === '/ready') {
    if (req.method === 'POST') ready = url.searchParams.get('ok') !== 'false';
    req.resume();
    res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ready, host: reachedAt(req) }));
    return;
  }
  if (url.pathname === '/echo') {
    res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' });
    req.pipe(res);
    return;
  }
  if (url.pathname === '/stream') {
    const chunks = Number(url.searchParams.get('chunks') ?? 3);
    const ms = Number(url.searchParams.get('ms') ?? 100);
    res.writeHead(200, { 'content-type': 'text/plain' });
    for (let i = 0; i < chunks; i++) {
      res.write(`chunk ${i} ${Date.now()}\n`);
      await sleep(ms);
    }
    res.end();
    return;
  }
  if (url.pathname === '/sleep') await sleep(Number(url.searchParams.get('ms') ?? 0));
  req.resume();
  res.writeHead(Number(process.env.ANSWER_STATUS ?? 200), { 'content-type': 'application/json' });
  const via = req.headers['x-trellis-activator'] ? 'activator' : 'direct';
  res.end(JSON.stringify({ pid: process.pid, host: reachedAt(req), port, path: url.pathname, greeting: process.env.GREETING ?? 'hello', via }));
});

process.on('SIGTERM', () => (process.env.ON_SIGTERM === 'exit' ? process.exit(0) : server.close(() => process.exit(0))));
setTimeout(() => server.listen(port, host), startupDelay);
