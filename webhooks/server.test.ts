import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { TrellisError } from '../lib/errors.js';
import { createCertificateAuthority } from '../lib/pki.js';
import type { AdmissionRequest, AdmissionReview } from './admission.js';
import { WebhookServer } from './server.js';

interface Reply {
  status: number;
  body: string;
  issuer: string;
}

function call(port: number, ca: string, method: string, urlPath: string, body?: unknown): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: urlPath,
        ca,
        agent: false,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: text,
            issuer: (res.socket as import('node:tls').TLSSocket).getPeerCertificate().issuer?.CN?.toString() ?? '',
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
  });
}

const request = (overrides: Partial<AdmissionRequest> = {}): AdmissionReview => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: 'u-1',
    kind: { group: 'core.oam.dev', version: 'v1alpha2', kind: 'Component' },
    resource: { group: 'core.oam.dev', version: 'v1alpha2', resource: 'components' },
    name: 'web',
    namespace: 'shop',
    operation: 'CREATE',
    object: { apiVersion: 'core.oam.dev/v1alpha2', kind: 'Component', metadata: { name: 'web', namespace: 'shop' } },
    ...overrides,
  },
});

describe('webhooks: WebhookServer', function () {
  const caA = createCertificateAuthority('ca-a');
  const caB = createCertificateAuthority('ca-b');
  let dir: string;
  let server: WebhookServer;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'trellis-webhook-test-'));
    const pair = caA.issue({ commonName: 'webhook', ipAddresses: ['127.0.0.1'], usages: ['server'] });
    await writeFile(path.join(dir, 'tls.crt'), pair.cert);
    await writeFile(path.join(dir, 'tls.key'), pair.key);
    server = new WebhookServer({
      host: '127.0.0.1',
      port: 0,
      tls: { certFile: path.join(dir, 'tls.crt'), keyFile: path.join(dir, 'tls.key'), pollMs: 0 },
      handlers: [
        {
          name: 'admit',
          handle: async () => ({
            patch: [{ op: 'add', path: '/metadata/labels', value: { a: 'b' } }],
            warnings: ['careful'],
          }),
        },
        {
          name: 'deny',
          handle: async (r) => {
            throw new TrellisError('TRL_ADMISSION_TEST', 'is wrong', {
              object: `Component/${r.namespace}/${r.name}`,
              field: 'spec.x',
            });
          },
        },
        {
          name: 'crash',
          handle: async () => {
            throw new Error('boom');
          },
        },
      ],
    });
    await server.start();
  });

  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('admits with a base64 JSON Patch and warnings, echoing the uid', async () => {
    const reply = await call(server.port, caA.cert, 'POST', '/admit', request());
    assert.equal(reply.status, 200);
    const { response } = JSON.parse(reply.body) as AdmissionReview;
    assert.equal(response?.uid, 'u-1');
    assert.equal(response?.allowed, true);
    assert.equal(response?.patchType, 'JSONPatch');
    assert.deepEqual(JSON.parse(Buffer.from(response!.patch!, 'base64').toString()), [
      { op: 'add', path: '/metadata/labels', value: { a: 'b' } },
    ]);
    assert.deepEqual(response?.warnings, ['careful']);
  });

  it('turns a thrown TrellisError into a denied review: 4xx code, message naming object, field and reason', async () => {
    const reply = await call(server.port, caA.cert, 'POST', '/deny', request());
    assert.equal(reply.status, 200, 'the API server only reads reviews sent with 200');
    const { response } = JSON.parse(reply.body) as AdmissionReview;
    assert.equal(response?.allowed, false);
    assert.deepEqual(response?.status, {
      code: 422,
      reason: 'Invalid',
      message: '[TRL_ADMISSION_TEST] Component/shop/web: spec.x: is wrong',
    });
  });

  it('denies with 500 and a readable message when a handler fails unexpectedly', async () => {
    const { response } = JSON.parse(
      (await call(server.port, caA.cert, 'POST', '/crash', request())).body,
    ) as AdmissionReview;
    assert.equal(response?.allowed, false);
    assert.equal(response?.status?.code, 500);
    assert.match(response!.status!.message, /^\[TRL_WEBHOOK_INTERNAL\] internal error, try again: boom$/);
  });

  it('answers 400 to a body that is not an AdmissionReview, and 404 to an unknown path', async () => {
    const notJson = await call(server.port, caA.cert, 'POST', '/admit', '{nope');
    assert.equal(notJson.status, 400);
    assert.match(JSON.parse(notJson.body).message, /TRL_WEBHOOK_REVIEW.*not JSON/);
    const noUid = await call(server.port, caA.cert, 'POST', '/admit', {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {},
    });
    assert.equal(noUid.status, 400);
    const unknown = await call(server.port, caA.cert, 'POST', '/nowhere', request());
    assert.equal(unknown.status, 404);
    assert.match(JSON.parse(unknown.body).message, /no webhook at \/nowhere; serving \/admit, \/deny, \/crash/);
  });

  it('serves /healthz and a latency histogram per webhook on /metrics', async () => {
    assert.equal((await call(server.port, caA.cert, 'GET', '/healthz')).body, 'ok');
    const metrics = (await call(server.port, caA.cert, 'GET', '/metrics')).body;
    assert.match(
      metrics,
      /trellis_webhook_admission_duration_seconds_count\{webhook="admit",operation="CREATE",outcome="allowed"\} [1-9]/,
    );
    assert.match(
      metrics,
      /trellis_webhook_admission_duration_seconds_count\{webhook="deny",operation="CREATE",outcome="denied"\} [1-9]/,
    );
    assert.match(
      metrics,
      /trellis_webhook_admission_duration_seconds_count\{webhook="crash",operation="CREATE",outcome="error"\} [1-9]/,
    );
    assert.match(metrics, /trellis_webhook_denials_total\{webhook="deny",code="TRL_ADMISSION_TEST"\} [1-9]/);
  });

  it('reloads the certificate when the files change, and keeps the old pair while they do not match', async () => {
    assert.equal((await call(server.port, caA.cert, 'GET', '/healthz')).issuer, 'ca-a');
    const next = caB.issue({ commonName: 'webhook', ipAddresses: ['127.0.0.1'], usages: ['server'] });
    await writeFile(path.join(dir, 'tls.crt'), next.cert);
    await server.reloadCertificate();
    assert.equal(
      (await call(server.port, caA.cert, 'GET', '/healthz')).issuer,
      'ca-a',
      'a certificate without its key is not used',
    );
    await assert.rejects(call(server.port, caB.cert, 'GET', '/healthz'), (err: NodeJS.ErrnoException) =>
      /CERT|SELF_SIGNED|ISSUER|SIGNATURE/.test(err.code ?? ''),
    );
    await writeFile(path.join(dir, 'tls.key'), next.key);
    await server.reloadCertificate();
    const reply = await call(server.port, caB.cert, 'GET', '/healthz');
    assert.equal(reply.issuer, 'ca-b');
    assert.equal(reply.body, 'ok');
    assert.match(
      (await call(server.port, caB.cert, 'GET', '/metrics')).body,
      /trellis_webhook_certificate_reloads_total\{outcome="loaded"\} 1/,
    );
  });

  it('picks up a changed certificate by itself, from file-system events', async () => {
    const third = caA.issue({ commonName: 'webhook', ipAddresses: ['127.0.0.1'], usages: ['server'] });
    await writeFile(path.join(dir, 'tls.key'), third.key);
    await writeFile(path.join(dir, 'tls.crt'), third.cert);
    for (let i = 0; i < 100; i++) {
      const issuer = await call(server.port, caA.cert, 'GET', '/healthz').then(
        (r) => r.issuer,
        () => '',
      );
      if (issuer === 'ca-a') return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail('the server kept serving the old certificate');
  });
});
