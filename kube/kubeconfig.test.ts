import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadKubeconfig } from './kubeconfig.js';

const config = (
  name: string,
  server: string,
  extra: { cluster?: object; user?: object; context?: object; current?: boolean } = {},
) => ({
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [{ name, cluster: { server, ...extra.cluster } }],
  users: [{ name, user: { token: `token-${name}`, ...extra.user } }],
  contexts: [{ name, context: { cluster: name, user: name, ...extra.context } }],
  ...(extra.current === false ? {} : { 'current-context': name }),
});

describe("kube: loadKubeconfig (kubectl's rules)", () => {
  let dir: string;
  const write = (file: string, doc: unknown) => {
    const full = path.join(dir, file);
    writeFileSync(full, typeof doc === 'string' ? doc : stringify(doc));
    return full;
  };
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-kubeconfig-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads tls-server-name, proxy-url, the namespace, and files relative to the kubeconfig', () => {
    write('ca.crt', 'CA PEM');
    const file = write(
      'config',
      config('dev', 'https://10.0.0.1:6443', {
        cluster: {
          'tls-server-name': 'kubernetes',
          'proxy-url': 'http://127.0.0.1:3128',
          'certificate-authority': 'ca.crt',
        },
        context: { namespace: 'shop' },
      }),
    );
    const c = loadKubeconfig({ kubeconfig: file, env: {} });
    assert.equal(c.cluster.tlsServerName, 'kubernetes');
    assert.equal(c.cluster.proxyUrl, 'http://127.0.0.1:3128');
    assert.equal(c.cluster.ca?.toString(), 'CA PEM');
    assert.equal(c.namespace, 'shop');
    assert.equal(c.user.token, 'token-dev');
  });

  it('merges KUBECONFIG files: the first to define a name or set current-context wins, missing files are skipped', () => {
    const a = write('a', config('dev', 'https://a:6443'));
    const b = write('b', {
      ...config('dev', 'https://b:6443'),
      contexts: [...config('dev', 'x').contexts, { name: 'prod', context: { cluster: 'prod', user: 'dev' } }],
      clusters: [
        ...config('dev', 'https://b:6443').clusters,
        { name: 'prod', cluster: { server: 'https://prod:6443' } },
      ],
      'current-context': 'prod',
    });
    const env = { KUBECONFIG: [path.join(dir, 'missing'), a, b].join(':') };
    const c = loadKubeconfig({ env });
    assert.equal(c.context, 'dev', 'the first file sets current-context');
    assert.equal(c.cluster.server, 'https://a:6443', 'the first file defines cluster "dev"');
    assert.deepEqual(c.origin, [a, b]);
    const prod = loadKubeconfig({ env, context: 'prod' });
    assert.equal(prod.cluster.server, 'https://prod:6443', 'a context only the second file defines');
  });

  it('says a context does not exist, and lists those that do', () => {
    const file = write('config', config('dev', 'https://a:6443'));
    assert.throws(() => loadKubeconfig({ kubeconfig: file, context: 'nope', env: {} }), {
      code: 'TRL_KUBE_CONTEXT',
      message: `[TRL_KUBE_CONTEXT] context "nope" does not exist in ${file} (contexts: dev)`,
    });
  });

  it('says there is no kubeconfig at all, and how to get one', () => {
    const home = path.join(dir, 'home');
    mkdirSync(home);
    assert.throws(() => loadKubeconfig({ env: { HOME: home } }), {
      code: 'TRL_KUBE_NO_CONFIG',
      message: /no kubeconfig found: pass --kubeconfig <file>, set KUBECONFIG, or create ~\/\.kube\/config/,
    });
    assert.throws(() => loadKubeconfig({ kubeconfig: path.join(dir, 'nope'), env: {} }), {
      code: 'TRL_KUBE_NO_CONFIG',
      message: /kubeconfig .*nope does not exist/,
    });
  });

  it('asks for --context when none is current, and names a missing cluster', () => {
    const none = write('none', config('dev', 'https://a:6443', { current: false }));
    assert.throws(() => loadKubeconfig({ kubeconfig: none, env: {} }), {
      code: 'TRL_KUBE_CONTEXT',
      message: /sets no current-context: pass --context <name> \(contexts: dev\)/,
    });
    const broken = write('broken', { ...config('dev', 'x'), clusters: [] });
    assert.throws(() => loadKubeconfig({ kubeconfig: broken, env: {} }), {
      code: 'TRL_KUBE_CONFIG',
      message: /context "dev" names cluster "dev", which .* does not define/,
    });
    const bad = write('bad', 'clusters: [');
    assert.throws(() => loadKubeconfig({ kubeconfig: bad, env: {} }), {
      code: 'TRL_KUBE_CONFIG',
      message: /is not valid YAML/,
    });
  });

  it('keeps exec plugins and auth-providers, with a relative command resolved against the file', () => {
    const file = write(
      'config',
      config('dev', 'https://a:6443', {
        user: {
          token: undefined,
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1',
            command: './bin/login',
            args: ['--quiet'],
            env: [{ name: 'A', value: '1' }],
          },
          'auth-provider': { name: 'oidc', config: { 'id-token': 'x' } },
        },
      }),
    );
    const c = loadKubeconfig({ kubeconfig: file, env: {} });
    assert.equal(c.user.exec?.command, path.join(dir, 'bin', 'login'));
    assert.deepEqual(c.user.exec?.args, ['--quiet']);
    assert.deepEqual(c.user.authProvider, { name: 'oidc', config: { 'id-token': 'x' } });
  });
});
