import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InformerHandlers } from '../../kube/index.js';
import { freePort } from '../../lib/ports.js';
import { LABEL_REVISION, LABEL_SERVICE_NAME, LABEL_SLICE_MANAGED_BY } from '../labels.js';
import { PROXIED_HEADER } from '../meter/instance-meter.js';
import { LocalRouter } from './local-router.js';
import { LABEL_MODE, PUBLIC_ENDPOINTS_MANAGER, type Slice } from './slices.js';

/** What a server saw of one request. */
interface Seen {
  by: string;
  url: string;
  marked: boolean;
  prefix?: string;
  body: string;
}

/** A loopback HTTP server answering with what it saw. */
async function server(by: string): Promise<http.Server & { seen: Seen[]; port: number }> {
  const seen: Seen[] = [];
  const s = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const prefix = req.headers['x-forwarded-prefix'] as string | undefined;
      const one = { by, url: req.url ?? '', marked: req.headers[PROXIED_HEADER] !== undefined, body };
      seen.push(prefix ? { ...one, prefix } : one);
      res.end(JSON.stringify(seen.at(-1)));
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return Object.assign(s, { seen, port: (s.address() as AddressInfo).port });
}

/** Slices as an informer holds them, with its change events. */
class FakeSlices {
  items: Slice[] = [];
  private handlers: InformerHandlers<Slice>[] = [];
  list = () => this.items;
  on(h: InformerHandlers<Slice>) {
    this.handlers.push(h);
    return this as never;
  }
  set(items: Slice[]) {
    this.items = items;
    for (const h of this.handlers) h.add?.(items[0]!);
  }
}

const slice = (mode: string, address: string, port: number, ready = true): Slice => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: {
    name: `hello-${mode}-${address}-${port}`,
    namespace: 'shop',
    labels: { [LABEL_SERVICE_NAME]: 'hello', [LABEL_SLICE_MANAGED_BY]: PUBLIC_ENDPOINTS_MANAGER, [LABEL_MODE]: mode },
  },
  addressType: 'FQDN',
  endpoints: [{ addresses: [address], conditions: { ready } }],
  ports: [{ name: 'http', port }],
});

function get(url: string, init: { host?: string; method?: string; body?: string } = {}): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: init.method ?? 'GET', agent: false, headers: { ...(init.host ? { host: init.host } : {}) } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(JSON.parse(text) as Seen));
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

describe("serverless: the local router (trellis up's kube-proxy for Functions' Services)", () => {
  let instance: Awaited<ReturnType<typeof server>>;
  let activator: Awaited<ReturnType<typeof server>>;
  let router: LocalRouter;
  const slices = new FakeSlices();
  beforeEach(async () => {
    instance = await server('instance');
    activator = await server('activator');
    const handler = activator.listeners('request')[0] as http.RequestListener;
    router = new LocalRouter({
      slices,
      activator: { handle: (req, res) => void handler(req, res), port: activator.port },
      drainTimeoutMs: 1_000,
    });
    await router.start();
  });
  afterEach(async () => {
    await router.stop();
    instance.close();
    activator.close();
  });

  it('sends a Function whose Service is in serve mode straight to its instances, unmarked, the path as the activator routes it', async () => {
    slices.set([slice('serve', 'trellis-local.localhost', instance.port)]);
    const byPath = await get(`${router.url}/shop/hello/x?y=1`);
    assert.deepEqual(byPath, { by: 'instance', url: '/x?y=1', marked: false, prefix: '/shop/hello', body: '' });
    const byHost = await get(`${router.url}/z`, { host: 'hello.shop.fn.localhost' });
    assert.deepEqual(byHost, { by: 'instance', url: '/z', marked: false, body: '' });
    assert.deepEqual((await get(`${router.url}/shop/hello/echo`, { method: 'POST', body: 'abc' })).body, 'abc');
    assert.equal(activator.seen.length, 0, 'the activator is out of the path');
    assert.deepEqual(router.instances('shop/hello'), [{ host: '127.0.0.1', port: instance.port }]);
  });

  it('hands everything else to the activator: proxy mode, a switch half written, no slices, other Functions, no route', async () => {
    slices.set([slice('proxy', 'activator.localhost', activator.port)]);
    assert.equal((await get(`${router.url}/shop/hello/`)).by, 'activator', 'proxy mode');
    assert.deepEqual(
      (await get(`${router.url}/shop/hello/a`)).url,
      '/shop/hello/a',
      'the activator gets the request as sent: it routes it itself',
    );
    slices.set([slice('serve', 'x.localhost', instance.port), slice('proxy', 'activator.localhost', activator.port)]);
    assert.equal((await get(`${router.url}/shop/hello/`)).by, 'activator', 'a proxy slice beside a serve one: proxy');
    slices.set([slice('serve', 'x.localhost', instance.port, false)]);
    assert.equal((await get(`${router.url}/shop/hello/`)).by, 'activator', 'no ready instance');
    slices.set([slice('serve', 'x.localhost', instance.port)]);
    assert.equal((await get(`${router.url}/shop/other/`)).by, 'activator', 'another Function');
    assert.equal((await get(`${router.url}/`)).by, 'activator', 'no Function named: the activator answers 404 itself');
    assert.equal(instance.seen.length, 0);
  });

  it("answers 504 TRL_ROUTER_TIMEOUT when an instance served directly exceeds its revision's spec.timeoutSeconds", async () => {
    const hanging = http.createServer(() => undefined);
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    const timed = new LocalRouter({
      slices,
      activator: { handle: (_req, res) => void res.end('activator'), port: activator.port },
      timeoutOf: (revision) => (revision === 'shop/hello-00001' ? 300 : undefined),
      drainTimeoutMs: 1_000,
    });
    await timed.start();
    try {
      const served = slice('serve', 'trellis-local.localhost', (hanging.address() as AddressInfo).port);
      served.metadata.labels![LABEL_REVISION] = 'hello-00001';
      slices.set([served]);
      const answer = await new Promise<{ status: number; code: unknown; body: string }>((resolve, reject) => {
        http
          .get(`${timed.url}/shop/hello/slow`, { agent: false }, (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, code: res.headers['x-trellis-error'], body }));
          })
          .on('error', reject);
      });
      assert.equal(answer.status, 504);
      assert.equal(answer.code, 'TRL_ROUTER_TIMEOUT');
      assert.match(answer.body, /spec\.timeoutSeconds/);
    } finally {
      await timed.stop();
      hanging.closeAllConnections();
      hanging.close();
    }
  });

  it('never dials an address off this machine: a serve slice with a pod IP leaves the request to the activator', async () => {
    slices.set([slice('serve', '10.244.0.7', instance.port)]);
    assert.equal((await get(`${router.url}/shop/hello/`)).by, 'activator');
    assert.equal(router.instances('shop/hello'), undefined);
  });

  it('sends a request an instance refuses (gone before its slice said so) to the activator, body included', async () => {
    const gone = await freePort();
    slices.set([slice('serve', 'trellis-local.localhost', gone)]);
    assert.deepEqual(await get(`${router.url}/shop/hello/x`), {
      by: 'activator',
      url: '/shop/hello/x',
      marked: false,
      body: '',
    });
    const posted = await get(`${router.url}/shop/hello/echo`, { method: 'POST', body: 'payload' });
    assert.deepEqual([posted.by, posted.body], ['activator', 'payload']);
  });
});
