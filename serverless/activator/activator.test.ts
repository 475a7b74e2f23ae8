import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { interval } from './meter.js';
import { Activator } from './activator.js';
import { functionConfig, type FunctionSpec } from '../function/config.js';
import { probeOnce } from '../probe.js';
import { freePort } from '../../lib/ports.js';

/** A real HTTP server standing in for a function instance. */
async function instance(handler?: http.RequestListener): Promise<{ port: number; server: http.Server; hits: number }> {
  const state = { port: 0, server: undefined as unknown as http.Server, hits: 0 };
  state.server = http.createServer((req, res) => {
    state.hits++;
    if (handler) return handler(req, res);
    req.resume();
    res.end(
      JSON.stringify({
        port: state.port,
        url: req.url,
        host: req.headers.host,
        xff: req.headers['x-forwarded-for'],
        prefix: req.headers['x-forwarded-prefix'],
      }),
    );
  });
  await new Promise<void>((r) => state.server.listen(0, '127.0.0.1', () => r()));
  state.port = (state.server.address() as AddressInfo).port;
  return state;
}

function call(
  activator: Activator,
  path: string,
  options: { host?: string; method?: string; body?: Buffer } = {},
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: activator.port,
        path,
        method: options.method ?? 'GET',
        agent: false,
        headers: options.host ? { host: options.host } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), headers: res.headers }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const config = (name: string, spec: FunctionSpec = {}) =>
  functionConfig({
    apiVersion: 'serverless.trellis.dev/v1alpha1',
    kind: 'Function',
    metadata: { name, namespace: 'ns' },
    spec: { handler: 'node h.js', ...spec },
  });
const endpoint = (port: number, extra = {}) => ({ host: '127.0.0.1', port, ready: true, terminating: false, ...extra });

describe('activator: Activator with real HTTP instances', () => {
  let activator: Activator;
  /** Probes the activator made of each port, refused or not. */
  let probes: Map<number, number>;
  const servers: http.Server[] = [];
  beforeEach(async () => {
    probes = new Map();
    const probe: typeof probeOnce = (target, timeoutMs) => (
      probes.set(target.port, (probes.get(target.port) ?? 0) + 1),
      probeOnce(target, timeoutMs)
    );
    activator = new Activator({ domain: 'fn.test', probeIntervalMs: 5, probe });
    await activator.start();
  });
  afterEach(async () => {
    await activator.stop();
    for (const s of servers.splice(0)) s.close();
  });
  const track = <T extends { server: http.Server }>(i: T) => (servers.push(i.server), i);

  it('routes by Host and by path prefix, forwarding headers and the remaining path', async () => {
    const a = track(await instance());
    activator.upsertFunction(config('hello'));
    activator.setEndpoints('ns/hello', [endpoint(a.port)]);
    const byHost = await call(activator, '/x?y=1', { host: 'hello.ns.fn.test' });
    assert.equal(byHost.status, 200);
    assert.deepEqual(JSON.parse(byHost.body), {
      port: a.port,
      url: '/x?y=1',
      host: 'hello.ns.fn.test',
      xff: '127.0.0.1',
    });
    const byPath = JSON.parse((await call(activator, '/ns/hello/a/b')).body);
    assert.equal(byPath.url, '/a/b');
    assert.equal(byPath.prefix, '/ns/hello');
  });

  it('answers 404 with a code for a request that names no function or an unknown one', async () => {
    const none = await call(activator, '/');
    assert.equal(none.status, 404);
    assert.equal(none.headers['x-trellis-error'], 'TRL_ACTIVATOR_NO_ROUTE');
    const unknown = await call(activator, '/ns/nope/');
    assert.equal(unknown.status, 404);
    assert.match(JSON.parse(unknown.body).error.message, /no Function ns\/nope/);
  });

  it('streams a large request body to the instance and the answer back', async () => {
    const echo = track(await instance((req, res) => req.pipe(res)));
    activator.upsertFunction(config('echo'));
    activator.setEndpoints('ns/echo', [endpoint(echo.port)]);
    const body = Buffer.alloc(3 * 1024 * 1024, 'abcdefgh');
    const answer = await call(activator, '/ns/echo/', { method: 'POST', body });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.length, body.length);
    assert.equal(answer.body, body.toString());
  });

  it('holds requests at zero, asks for one scale-up per burst, and releases all once an instance answers its probe', async () => {
    activator.upsertFunction(config('cold'));
    const activations: number[] = [];
    activator.subscribe({ activate: (_key, queued) => activations.push(queued) });
    const burst = Array.from({ length: 50 }, () => call(activator, '/ns/cold/'));
    await waitFor(() => activator.traffic('ns/cold')!.queue.length === 50);
    // The endpoint is published before the process listens, as a real start-up does.
    const port = await freePort();
    activator.setEndpoints('ns/cold', [endpoint(port, { ready: false })]);
    // Not until the activator's own probe has been refused at least once (a second probe started).
    await waitFor(() => (probes.get(port) ?? 0) >= 2);
    assert.equal(activator.traffic('ns/cold')!.queue.length, 50, 'still held while nothing listens');
    const real = track(await listenOn(port));
    const answers = await Promise.all(burst);
    assert.deepEqual(
      answers.map((a) => a.status),
      Array(50).fill(200),
    );
    assert.equal(real.hits, 50);
    assert.deepEqual(activations, [1], 'one activation, when the first request was held');
  });

  it('reuses kept-alive connections to an instance instead of opening one per request', async () => {
    const sockets = new Set<unknown>();
    const inst = track(
      await instance((req, res) => {
        sockets.add(req.socket);
        req.resume();
        res.end('ok');
      }),
    );
    activator.upsertFunction(config('pooled'));
    activator.setEndpoints('ns/pooled', [endpoint(inst.port)]);
    await waitFor(() => activator.traffic('ns/pooled')!.readyCount === 1);
    for (let i = 0; i < 20; i++) assert.equal((await call(activator, '/ns/pooled/')).status, 200);
    assert.equal(inst.hits, 20);
    assert.equal(sockets.size, 1, '20 requests one after another came over one connection');
  });

  it('reports the requests in flight per function, to the autoscaler and on /metrics', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const inst = track(
      await instance(async (req, res) => {
        req.resume();
        await gate;
        res.end('ok');
      }),
    );
    activator.upsertFunction(config('busy'));
    activator.upsertFunction(config('idle'));
    activator.setEndpoints('ns/busy', [endpoint(inst.port)]);
    await waitFor(() => activator.traffic('ns/busy')!.readyCount === 1);
    const calls = Array.from({ length: 3 }, () => call(activator, '/ns/busy/'));
    await waitFor(() => inst.hits === 3);
    const start = activator.stats('me').revisions['ns/busy']!;
    assert.deepEqual([start.current, start.peak, start.arrivals], [3, 3, 3]);
    assert.equal(activator.stats('me').revisions['ns/idle']!.current, 0);
    const text = await activator.registry.metrics();
    assert.match(text, /trellis_activator_concurrency\{namespace="ns",function="busy",revision="busy"\} 3\n/);
    assert.match(text, /trellis_activator_concurrency\{namespace="ns",function="idle",revision="idle"\} 0\n/);
    release();
    assert.deepEqual(
      (await Promise.all(calls)).map((c) => c.status),
      [200, 200, 200],
    );
    const after = interval(start, activator.stats('me').revisions['ns/busy']!);
    assert.deepEqual(
      [after.current, after.arrivals],
      [0, 0],
      'all three finished, none arrived since the last reading',
    );
    assert.ok(after.average > 0, 'the interval saw them in flight before they finished');
  });

  it('answers 503 beyond the hold queue and 504 after the queue timeout', async () => {
    activator.upsertFunction(config('full', { queue: { size: 2, timeoutSeconds: 2 } }));
    const held = [call(activator, '/ns/full/'), call(activator, '/ns/full/')];
    await waitFor(() => activator.traffic('ns/full')!.queue.length === 2);
    const overflow = await call(activator, '/ns/full/');
    assert.equal(overflow.status, 503);
    assert.equal(overflow.headers['x-trellis-error'], 'TRL_ACTIVATOR_QUEUE_FULL');
    const timedOut = await Promise.all(held);
    assert.deepEqual(
      timedOut.map((t) => t.status),
      [504, 504],
    );
    assert.match(JSON.parse(timedOut[0]!.body).error.message, /spec\.queue\.timeoutSeconds/);
  });

  it('answers 504 when an instance takes longer than the request timeout', async () => {
    const slow = track(await instance(() => undefined));
    activator.upsertFunction(config('slow', { timeoutSeconds: 1 }));
    activator.setEndpoints('ns/slow', [endpoint(slow.port)]);
    const answer = await call(activator, '/ns/slow/');
    assert.equal(answer.status, 504);
    assert.equal(answer.headers['x-trellis-error'], 'TRL_ACTIVATOR_UPSTREAM_TIMEOUT');
  });

  it('retries a refused connection on another instance instead of failing the request', async () => {
    const good = track(await instance());
    const doomed = track(await instance());
    activator.upsertFunction(config('retry'));
    activator.setEndpoints('ns/retry', [endpoint(good.port), endpoint(doomed.port)]);
    await waitFor(() => activator.traffic('ns/retry')!.readyCount === 2);
    // The instance dies while its endpoint is still listed, as when a process crashes.
    doomed.server.closeAllConnections();
    await new Promise((r) => doomed.server.close(r));
    const answers = await Promise.all(Array.from({ length: 20 }, () => call(activator, '/ns/retry/')));
    assert.deepEqual(
      answers.map((a) => a.status),
      Array(20).fill(200),
    );
    assert.equal(
      activator.traffic('ns/retry')!.instances.get(`127.0.0.1:${doomed.port}`)!.state,
      'probing',
      'the refusing instance is out of rotation until it answers a probe',
    );
  });

  it('retire() waits for in-flight requests before committing, and a request during a drain to zero calls it off', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const inst = track(
      await instance(async (req, res) => {
        if (req.url === '/slow') await gate;
        res.end('ok');
      }),
    );
    activator.upsertFunction(config('drain'));
    activator.setEndpoints('ns/drain', [endpoint(inst.port)]);
    await waitFor(() => activator.traffic('ns/drain')!.readyCount === 1);
    const id = `127.0.0.1:${inst.port}`;

    const slow = call(activator, '/ns/drain/slow');
    await waitFor(() => activator.traffic('ns/drain')!.instances.get(id)!.inFlight === 1);
    let committed: boolean | undefined;
    const retiring = activator.retire('ns/drain', [id], true).then((c) => (committed = c));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(committed, undefined, 'not committed while a request is in flight');
    const during = call(activator, '/ns/drain/fast');
    assert.equal((await during).status, 200, 'the request that arrived during the drain was served');
    await retiring;
    assert.equal(committed, false, 'the drain to zero was called off');
    release();
    assert.equal((await slow).status, 200);

    assert.equal(await activator.retire('ns/drain', [id], true), true, 'an idle instance retires at once');
    assert.equal(activator.traffic('ns/drain')!.instances.get(id)!.state, 'retired');
  });
});

async function listenOn(port: number): Promise<{ port: number; server: http.Server; hits: number }> {
  const state = { port, server: undefined as unknown as http.Server, hits: 0 };
  state.server = http.createServer((req, res) => {
    state.hits++;
    req.resume();
    res.end('{}');
  });
  await new Promise<void>((r) => state.server.listen(port, '127.0.0.1', () => r()));
  return state;
}

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), 'condition not reached');
}
