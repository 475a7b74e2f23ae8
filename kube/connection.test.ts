import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Connection } from './connection.js';

/**
 * A server on loopback that answers every request on a connection except the second, where it
 * closes the connection unanswered — what an API server does to a keep-alive connection it finds
 * idle (90 s) just as a request is written on it.
 */
async function closingServer(): Promise<{
  url: string;
  requests: string[];
  connections: () => number;
  close: () => Promise<void>;
}> {
  const requests: string[] = [];
  const perSocket = new WeakMap<object, number>();
  let connections = 0;
  const server = http.createServer((req, res) => {
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    requests.push(`${req.method} ${req.url}`);
    if (n === 2) return req.socket.destroy();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ kind: 'Status', n }));
  });
  server.on('connection', () => connections++);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A Connection to `url` through a kubeconfig written to a temporary folder; `close` removes both. */
async function connectTo(url: string, maxSockets?: number): Promise<{ conn: Connection; close: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'trellis-conn-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  await writeFile(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: url } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
  );
  const conn = await Connection.open({ kubeconfig, env: {}, ...(maxSockets ? { maxSockets } : {}) });
  return {
    conn,
    close: async () => {
      conn.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe('kube: Connection on a keep-alive socket the server closed', () => {
  let server: Awaited<ReturnType<typeof closingServer>>;
  let conn: Connection;
  let closeConn: () => Promise<void>;

  beforeEach(async () => {
    server = await closingServer();
    ({ conn, close: closeConn } = await connectTo(server.url));
  });

  afterEach(async () => {
    await closeConn();
    await server.close();
  });

  it('sends an apply again on a new connection, as client-go does, and it succeeds', async () => {
    await conn.request('/api/v1/namespaces/a/configmaps/one');
    const answer = await conn.request<{ n: number }>('/api/v1/namespaces/a/configmaps/two', {
      method: 'PATCH',
      body: {},
      contentType: 'application/apply-patch+yaml',
    });
    assert.equal(answer.n, 1, 'answered as the first request of a new connection');
    assert.deepEqual(server.requests, [
      'GET /api/v1/namespaces/a/configmaps/one',
      'PATCH /api/v1/namespaces/a/configmaps/two',
      'PATCH /api/v1/namespaces/a/configmaps/two',
    ]);
    assert.equal(server.connections(), 2);
  });

  it('does not send a create again: it fails as unreachable, naming the request', async () => {
    await conn.request('/api/v1/namespaces/a/configmaps/one');
    await assert.rejects(
      conn.request('/api/v1/namespaces/a/configmaps', { method: 'POST', body: { metadata: { name: 'x' } } }),
      (err: Error & { code?: string; transient?: boolean }) => {
        assert.equal(err.code, 'TRL_KUBE_UNREACHABLE');
        assert.match(err.message, /closed during POST \/api\/v1\/namespaces\/a\/configmaps \(ECONNRESET\)/);
        assert.equal(err.transient, true);
        return true;
      },
    );
    assert.equal(server.requests.filter((r) => r.startsWith('POST')).length, 1, 'sent once');
  });
});

describe('kube: Connection.withOwnSockets', () => {
  it('answers on its own pool while every socket of the shared one waits on a slow request', async () => {
    let answerSlow!: () => void;
    const server = http.createServer((req, res) => {
      if (req.url?.endsWith('/slow')) answerSlow = () => res.end('{"slow":true}');
      else res.end('{"lease":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { conn, close } = await connectTo(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 1);
    const leases = conn.withOwnSockets();
    try {
      const slow = conn.request('/apis/apps/v1/controllerrevisions/slow');
      await new Promise((r) => setTimeout(r, 50));
      let queued = false;
      const behind = conn.request('/apis/coordination.k8s.io/v1/leases/a').then(() => (queued = true));
      assert.deepEqual(await leases.request('/apis/coordination.k8s.io/v1/leases/a'), { lease: true });
      assert.equal(queued, false, 'the same request on the shared pool still waits for its socket');
      leases.close();
      answerSlow();
      assert.deepEqual(await slow, { slow: true });
      await behind;
      assert.equal(queued, true, 'closing the view left the shared pool working');
    } finally {
      await close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('kube: Connection write fences', () => {
  it("judges a write again when it gets its socket, in its caller's context: one that waited for a socket while its fence closed is not sent", async () => {
    const received: string[] = [];
    let answerFirst!: () => void;
    const server = http.createServer((req, res) => {
      received.push(`${req.method} ${req.url}`);
      const answer = () => res.end('{}');
      if (req.url?.endsWith('/first')) answerFirst = answer;
      else answer();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { conn, close } = await connectTo(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 1);
    const caller = new AsyncLocalStorage<string>();
    const open = new Set(['first', 'second']);
    const judged: string[] = [];
    conn.fence(() => {
      const who = caller.getStore() ?? 'nobody';
      judged.push(who);
      if (!open.has(who)) throw new Error(`${who} may not write now`);
    });
    try {
      const first = caller.run('first', () =>
        conn.request('/api/v1/namespaces/a/configmaps/first', { method: 'PATCH', body: {} }),
      );
      await new Promise((r) => setTimeout(r, 50)); // first holds the only socket
      const second = caller.run('second', () =>
        conn.request('/api/v1/namespaces/a/configmaps/second', { method: 'PATCH', body: {} }),
      );
      while (!judged.includes('second')) await new Promise((r) => setTimeout(r, 5)); // judged as it was sent: waits for the socket
      open.delete('second'); // e.g. its shard handed over while it waited for a socket
      answerFirst();
      await first;
      await assert.rejects(second, /second may not write now/);
      assert.deepEqual(received, ['PATCH /api/v1/namespaces/a/configmaps/first'], 'second never reached the server');
      assert.deepEqual(
        judged,
        ['first', 'first', 'second', 'second'],
        "each judged twice, in its own caller's context",
      );
    } finally {
      await close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
