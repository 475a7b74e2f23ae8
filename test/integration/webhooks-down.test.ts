import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../../lib/ports.js';
import { createCertificateAuthority } from '../../lib/pki.js';
import { unregisterWebhooks } from '../../webhooks/index.js';
import { testCluster } from '../support/cluster.js';
import { kubectl } from '../support/kubectl.js';
import { useNamespace } from '../support/namespace.js';
import { startTrellis, type RunningCommand } from '../support/trellis-cli.js';
import { registerChartWebhooks, waitUntilWebhookCalled, waitUntilWebhookGone } from '../support/webhook.js';

const configMap = (name: string) =>
  stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: 'b' } });
const deployment = (name: string) =>
  stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
    },
  });
const component = (name: string) =>
  stringify({
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'Component',
    metadata: { name },
    spec: { workload: { apiVersion: 'v1', kind: 'ConfigMap', data: { a: 'b' } } },
  });

describe('webhooks: `trellis webhook` down or hanging', function () {
  const ns = useNamespace('whdown');
  let dir: string;
  let running: RunningCommand | undefined;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'trellis-webhook-cli-'));
  });

  afterEach(async () => {
    running?.child.kill('SIGKILL');
    running = undefined;
    await unregisterWebhooks(testCluster().kube);
    await waitUntilWebhookGone(testCluster().kube);
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function startWebhookProcess(extra: string[] = []): Promise<RunningCommand> {
    const port = await freePort();
    const { kubeconfig, kube } = testCluster();
    running = await startTrellis(
      [
        'webhook',
        '--cert-dir',
        dir,
        '--bind-address',
        '127.0.0.1',
        '--port',
        String(port),
        '--register',
        `https://127.0.0.1:${port}`,
        '--kubeconfig',
        kubeconfig,
        ...extra,
      ],
      /^listening on (\d+)$/,
    );
    await waitUntilWebhookCalled(kube);
    return running;
  }

  it('registers itself, reports per-webhook latency on --metrics-port, and removes its registration on SIGTERM', async () => {
    const metricsPort = await freePort();
    const proc = await startWebhookProcess(['--metrics-port', String(metricsPort)]);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(
      metrics,
      /trellis_webhook_admission_duration_seconds_bucket\{le="0.005",webhook="mutate-components",operation="CREATE",outcome="denied"\} \d+/,
    );
    assert.match(
      metrics,
      /rest_client_requests_total\{code="404",method="GET",host="[^"]+"\} [1-9]/,
      "the probe's definition lookup missed",
    );
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status, 200);
    proc.child.kill('SIGTERM');
    assert.equal(await proc.exited, 0, proc.stderr());
    running = undefined;
    const { kube } = testCluster();
    assert.equal(
      await kube.getOrNull({
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'MutatingWebhookConfiguration',
        name: 'trellis-mutating',
      }),
      undefined,
    );
    assert.equal(
      await kube.getOrNull({
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        name: 'trellis-validating',
      }),
      undefined,
    );
  });

  it('after a crash, unrelated resources still apply; OAM writes fail with a readable message; metadata-only updates pass', async () => {
    const proc = await startWebhookProcess();
    assert.equal((await kubectl(['apply', '-n', ns.name, '-f', '-'], { input: component('before-crash') })).code, 0);
    proc.child.kill('SIGKILL');
    await proc.exited;
    running = undefined;

    const unrelated = await kubectl(['apply', '-n', ns.name, '-f', '-'], {
      input: `${configMap('settings')}---\n${deployment('web')}`,
    });
    assert.equal(unrelated.code, 0, unrelated.stderr);
    assert.match(unrelated.stdout, /configmap\/settings created\ndeployment\.apps\/web created/);

    const oam = await kubectl(['apply', '-n', ns.name, '-f', '-'], { input: component('after-crash') });
    assert.equal(oam.code, 1);
    assert.match(oam.stderr, /failed calling webhook "mutate-components\.core\.oam\.dev".*connection refused/s);

    const label = await kubectl(['label', '-n', ns.name, 'component', 'before-crash', 'team=shop']);
    assert.equal(label.code, 0, `a change outside spec never reaches the webhook: ${label.stderr}`);
  });

  it("a webhook that never answers is given up on after its own timeout, not the API server's", async () => {
    const sockets = new Set<net.Socket>();
    const hanging = net.createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const { kube } = testCluster();
    try {
      await registerChartWebhooks(
        kube,
        `https://127.0.0.1:${(hanging.address() as net.AddressInfo).port}`,
        createCertificateAuthority('unused').cert,
        /failed calling webhook/,
      );
      const unrelated = await kubectl(['apply', '-n', ns.name, '-f', '-'], { input: configMap('still-fine') });
      assert.equal(unrelated.code, 0, unrelated.stderr);
      const oam = await kubectl(['apply', '-n', ns.name, '-f', '-'], { input: component('stuck') });
      assert.equal(oam.code, 1);
      assert.match(
        oam.stderr,
        /failed calling webhook "mutate-components\.core\.oam\.dev".*(context deadline exceeded|Timeout|timeout)/s,
      );
    } finally {
      for (const s of sockets) s.destroy();
      hanging.close();
    }
  });
});
