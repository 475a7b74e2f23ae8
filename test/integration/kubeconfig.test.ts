/**
 * kubeconfig handled as kubectl handles it, against the real API server: proxy-url (HTTP CONNECT and
 * SOCKS5 proxies on loopback) with tls-server-name, exec credential plugins, KUBECONFIG with several
 * files, and the errors a person sees through the real binary when the cluster is down, the context
 * does not exist or there is no kubeconfig at all.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { KubeClient } from '../../kube/index.js';
import { freePort } from '../../lib/ports.js';
import { runTrellis } from '../support/cli.js';
import { testCluster } from '../support/cluster.js';
import { startConnectProxy, startSocksProxy, type TestProxy } from '../support/proxies.js';

interface Kubeconfig {
  clusters: { name: string; cluster: Record<string, unknown> }[];
  users: { name: string; user: Record<string, unknown> }[];
  contexts: { name: string; context: Record<string, unknown> }[];
  'current-context'?: string;
}

describe('kubeconfig as kubectl reads it', () => {
  let dir: string;
  let admin: Kubeconfig;
  let port: number;
  const proxies: TestProxy[] = [];
  const write = (name: string, doc: unknown) => {
    const file = path.join(dir, name);
    writeFileSync(file, stringify(doc), { mode: 0o600 });
    return file;
  };
  /** The admin kubeconfig, with the cluster entry changed. */
  const variant = (cluster: Record<string, unknown>, context = 'trellis') => ({
    ...admin,
    clusters: [{ name: admin.clusters[0]!.name, cluster: { ...admin.clusters[0]!.cluster, ...cluster } }],
    contexts: [{ ...admin.contexts[0]!, name: context }],
    'current-context': context,
  });
  const namespaces = async (kubeconfig: string) => {
    const kube = await KubeClient.connect({ kubeconfig });
    try {
      return (await kube.list('v1', 'Namespace')).items.map((n) => n.metadata.name);
    } finally {
      kube.close();
    }
  };

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-kubeconfig-'));
    admin = parse(readFileSync(testCluster().kubeconfig, 'utf8')) as Kubeconfig;
    port = Number(new URL(admin.clusters[0]!.cluster.server as string).port);
  });
  after(async () => {
    for (const p of proxies) await p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reaches the API server through an HTTP proxy (proxy-url), checking its certificate against tls-server-name', async () => {
    const proxy = await startConnectProxy();
    proxies.push(proxy);
    // A name that does not resolve: only the proxy (which sends every tunnel to 127.0.0.1) can reach it.
    const server = `https://kube-api.invalid:${port}`;
    const good = write('proxy.yaml', variant({ server, 'proxy-url': proxy.url, 'tls-server-name': 'kubernetes' }));
    assert.ok((await namespaces(good)).includes('kube-system'));
    assert.ok(proxy.tunnels.includes(`kube-api.invalid:${port}`), `tunnels: ${proxy.tunnels.join(', ')}`);

    const noServerName = write('proxy-no-name.yaml', variant({ server, 'proxy-url': proxy.url }));
    await assert.rejects(namespaces(noServerName), {
      code: 'TRL_KUBE_TLS',
      message: /its certificate is not valid for "kube-api\.invalid".*set the cluster's tls-server-name/,
    });

    const cli = await runTrellis(['status', 'nothing-here', '-n', 'default', '--kubeconfig', good]);
    assert.equal(cli.code, 1);
    assert.match(
      cli.stderr,
      /^error: \[TRL_STATUS_NOT_FOUND\] ApplicationConfiguration\/default\/nothing-here: no such ApplicationConfiguration\n$/,
      'the CLI went through the proxy too',
    );
  });

  it('reaches it through a SOCKS5 proxy, and says so when the proxy is not there', async () => {
    const proxy = await startSocksProxy();
    proxies.push(proxy);
    const file = write(
      'socks.yaml',
      variant({ server: `https://kube-api.invalid:${port}`, 'proxy-url': proxy.url, 'tls-server-name': 'kubernetes' }),
    );
    assert.ok((await namespaces(file)).includes('default'));
    assert.deepEqual([...new Set(proxy.tunnels)], [`kube-api.invalid:${port}`]);

    const gone = write('gone-proxy.yaml', variant({ 'proxy-url': `http://127.0.0.1:${await freePort()}` }));
    await assert.rejects(namespaces(gone), {
      code: 'TRL_KUBE_PROXY',
      message: /through the proxy http:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED/,
    });
  });

  it('runs an exec credential plugin and sends the token it prints', async () => {
    const token = (parse(readFileSync(testCluster().controllerKubeconfig, 'utf8')) as Kubeconfig).users[0]!.user
      .token as string;
    const plugin = path.join(dir, 'plugin.mjs');
    writeFileSync(
      plugin,
      `import { writeFileSync } from 'node:fs';
writeFileSync(process.env.INFO_FILE, process.env.KUBERNETES_EXEC_INFO);
console.log(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: process.env.PLUGIN_TOKEN } }));
`,
    );
    chmodSync(plugin, 0o755);
    const info = path.join(dir, 'exec-info.json');
    const file = write('exec.yaml', {
      ...admin,
      users: [
        {
          name: 'admin',
          user: {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1',
              command: process.execPath,
              args: [plugin],
              env: [
                { name: 'PLUGIN_TOKEN', value: token },
                { name: 'INFO_FILE', value: info },
              ],
              provideClusterInfo: true,
              interactiveMode: 'Never',
            },
          },
        },
      ],
    });
    const kube = await KubeClient.connect({ kubeconfig: file });
    try {
      const review = await kube.request<{ status: { userInfo: { username: string } } }>(
        '/apis/authentication.k8s.io/v1/selfsubjectreviews',
        { method: 'POST', body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } },
      );
      assert.equal(review.status.userInfo.username, 'system:serviceaccount:trellis-system:trellis');
    } finally {
      kube.close();
    }
    const sent = JSON.parse(readFileSync(info, 'utf8')) as {
      kind: string;
      spec: { interactive: boolean; cluster: { server: string } };
    };
    assert.equal(sent.kind, 'ExecCredential');
    assert.equal(sent.spec.interactive, false);
    assert.equal(sent.spec.cluster.server, admin.clusters[0]!.cluster.server);

    const broken = write('exec-broken.yaml', {
      ...admin,
      users: [
        {
          name: 'admin',
          user: {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1',
              command: 'trellis-no-such-plugin',
              installHint: 'Install it with: make login',
            },
          },
        },
      ],
    });
    await assert.rejects(namespaces(broken), {
      code: 'TRL_KUBE_AUTH',
      message: /exec plugin trellis-no-such-plugin: not found\. Install it with: make login/,
    });
  });

  it('merges KUBECONFIG files as kubectl does, and the binary names a down cluster, a missing context and no kubeconfig', async () => {
    const dead = `https://127.0.0.1:${await freePort()}`;
    const first = write('first.yaml', admin);
    const second = write('second.yaml', {
      ...variant({ server: dead }, 'down'),
      clusters: [{ name: 'down', cluster: { ...admin.clusters[0]!.cluster, server: dead } }],
      contexts: [{ name: 'down', context: { cluster: 'down', user: admin.users[0]!.name } }],
    });
    const env = { KUBECONFIG: [first, path.join(dir, 'missing.yaml'), second].join(':') };

    const up = await runTrellis(['status', 'nothing-here', '-n', 'default'], { env });
    assert.match(up.stderr, /TRL_STATUS_NOT_FOUND/, "the first file's current-context, through the real API server");

    const down = await runTrellis(['status', 'web', '--context', 'down'], { env });
    assert.equal(down.code, 1);
    assert.equal(
      down.stderr,
      `error: [TRL_KUBE_UNREACHABLE] cannot reach the API server at ${dead} (context "down"): connection refused: is the cluster running? (\`kubectl cluster-info\`)\n`,
    );

    const applying = await runTrellis(['apply', '-f', 'examples/scaler', '--context', 'down'], { env });
    assert.equal(applying.code, 1);
    assert.match(
      applying.stderr,
      /^error: \[TRL_KUBE_UNREACHABLE\] cannot reach the API server/,
      'apply says the cluster is down, not that it rejected an object',
    );

    const nope = await runTrellis(['status', 'web', '--context', 'nope'], { env });
    assert.equal(nope.code, 1);
    assert.equal(
      nope.stderr,
      `error: [TRL_KUBE_CONTEXT] context "nope" does not exist in ${first}, ${second} (contexts: trellis, down)\n`,
    );

    const none = await runTrellis(['status', 'web'], { env: { KUBECONFIG: '', HOME: dir } });
    assert.equal(none.code, 1);
    assert.match(
      none.stderr,
      /^error: \[TRL_KUBE_NO_CONFIG\] no kubeconfig found: pass --kubeconfig <file>, set KUBECONFIG, or create ~\/\.kube\/config/,
    );
    assert.doesNotMatch(none.stderr, /\n\s+at /);
  });
});
