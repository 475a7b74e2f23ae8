import assert from 'node:assert/strict';
import http from 'node:http';
import { freePort } from '../../lib/ports.js';
import { readInstanceMeter } from './instance-meter.js';
import { QueueProxy } from './queue-proxy.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function call(port: number, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

describe('QueueProxy (trellis queue-proxy)', () => {
  let fn: http.Server;
  let fnPort: number;
  let ready = true;
  /** Requests the function holds until released (GET /hold). */
  const held: http.ServerResponse[] = [];
  let proxy: QueueProxy | undefined;

  beforeEach(async () => {
    ready = true;
    fn = http.createServer((req, res) => {
      if (req.url === '/ready') res.writeHead(ready ? 200 : 503).end();
      else if (req.url === '/hold') held.push(res);
      else if (req.url === '/never') return;
      else
        res
          .writeHead(201, { 'x-from': 'function' })
          .end(JSON.stringify({ path: req.url, marked: req.headers['x-trellis-activator'] ?? null }));
    });
    fnPort = await freePort('127.0.0.1');
    await new Promise<void>((r) => fn.listen(fnPort, '127.0.0.1', r));
  });

  afterEach(async () => {
    for (const res of held.splice(0)) res.end();
    await proxy?.stop(0);
    proxy = undefined;
    fn.closeAllConnections();
    await new Promise((r) => fn.close(r));
  });

  const start = async (options: Partial<ConstructorParameters<typeof QueueProxy>[0]> = {}) => {
    proxy = new QueueProxy({
      host: '127.0.0.1',
      port: 0,
      meterPort: 0,
      upstream: { port: fnPort },
      timeoutMs: 10_000,
      probePath: '/ready',
      ...options,
    });
    await proxy.start();
    return proxy;
  };

  it('forwards to the function and counts only requests that did not come through an activator', async () => {
    const qp = await start();
    const direct = await call(qp.port, '/a?b=1');
    assert.equal(direct.status, 201);
    assert.equal(direct.headers['x-from'], 'function');
    assert.deepEqual(JSON.parse(direct.body), { path: '/a?b=1', marked: null });
    const viaActivator = await call(qp.port, '/b', { 'x-trellis-activator': '1' });
    assert.deepEqual(JSON.parse(viaActivator.body), { path: '/b', marked: '1' }, 'the mark passes on');
    const reading = await readInstanceMeter('127.0.0.1', qp.meterPort);
    assert.equal(reading?.arrivals, 1, 'the activator counts its own');
    assert.equal(reading?.current, 0);
  });

  it('reports requests in flight, integrated over time, and the peak', async () => {
    const qp = await start();
    const pending = [call(qp.port, '/hold'), call(qp.port, '/hold')];
    const during = await (async () => {
      for (;;) {
        const r = await readInstanceMeter('127.0.0.1', qp.meterPort);
        if (r && r.current === 2) return r;
        await new Promise((res) => setTimeout(res, 10));
      }
    })();
    assert.equal(during.peak, 2);
    for (const res of held.splice(0)) res.end('done');
    await Promise.all(pending);
    const after = await readInstanceMeter('127.0.0.1', qp.meterPort);
    assert.equal(after?.current, 0);
    assert.ok(after!.area > during.area, 'request·ms grew while they ran');
    assert.equal(after?.arrivals, 2);
  });

  it('answers 504 TRL_QUEUE_PROXY_TIMEOUT when the function exceeds spec.timeoutSeconds', async () => {
    const qp = await start({ timeoutMs: 200 });
    const answer = await call(qp.port, '/never');
    assert.equal(answer.status, 504);
    assert.equal(answer.headers['x-trellis-error'], 'TRL_QUEUE_PROXY_TIMEOUT');
    assert.match(answer.body, /did not answer within 0 s \(spec\.timeoutSeconds\)/);
    assert.equal((await readInstanceMeter('127.0.0.1', qp.meterPort))?.current, 0, 'the request left the count');
  });

  it('answers 502 TRL_QUEUE_PROXY_BAD_GATEWAY when nothing listens in the pod', async () => {
    const qp = await start({ upstream: { port: await freePort('127.0.0.1') } });
    const answer = await call(qp.port, '/');
    assert.equal(answer.status, 502);
    assert.equal(answer.headers['x-trellis-error'], 'TRL_QUEUE_PROXY_BAD_GATEWAY');
  });

  it("answers the pod's readiness by probing the function, and is not ready once stopping", async () => {
    const qp = await start();
    assert.equal((await call(qp.meterPort, '/ready')).status, 200);
    ready = false;
    assert.equal((await call(qp.meterPort, '/ready')).status, 503, "the function's readiness path fails");
    ready = true;
    const hold = call(qp.port, '/hold');
    while (held.length === 0) await new Promise((r) => setTimeout(r, 10));
    const stopping = qp.stop(10_000);
    const during = await call(qp.meterPort, '/ready');
    assert.equal(during.status, 503);
    assert.deepEqual(JSON.parse(during.body), { ready: false, draining: true });
    held.splice(0).forEach((res) => res.end('finished'));
    assert.equal((await hold).body, 'finished', 'what it held is answered before it closes');
    await stopping;
    proxy = undefined;
  });
});
