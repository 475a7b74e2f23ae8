import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../cli/main.js';
import { testCluster } from '../support/cluster.js';
import { TestRepo } from '../support/git-repo.js';
import { GitHttpServer } from '../support/git-http-server.js';
import { useNamespace } from '../support/namespace.js';

const configMap = (name: string, v: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  v: "${v}"\n`;

async function trellis(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const text = { out: '', err: '' };
  out.on('data', (d: Buffer) => (text.out += d));
  err.on('data', (d: Buffer) => (text.err += d));
  const code = await main(args, { out, err, env, cwd: process.cwd() });
  return { code, ...text };
}

describe('cli: trellis sync', () => {
  const ns = useNamespace('sync');
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'trellis-sync-cli-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));
  const kube = () => testCluster().kube;
  const data = async (name: string) =>
    (await kube().getOrNull({ apiVersion: 'v1', kind: 'ConfigMap', name, namespace: ns.name }))?.data;
  const sync = (...args: string[]) =>
    trellis(['sync', ...args, '-n', ns.name, '--kubeconfig', testCluster().kubeconfig]);

  it('shows the plan with --dry-run, applies it, then plans and applies updates and prunes with diffs', async () => {
    await mkdir(path.join(dir, 'apps'));
    await writeFile(path.join(dir, 'apps', 'a.yaml'), configMap('a', '1'));
    await writeFile(path.join(dir, 'apps', 'b.yaml'), configMap('b', '1'));
    await kube().apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'by-hand', namespace: ns.name },
      data: {},
    });

    let run = await sync(dir, '--path', 'apps', '--name', 'demo', '--dry-run');
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, new RegExp(`^Plan for folder .* → namespace ${ns.name} \\(sync "demo"\\):`));
    assert.match(run.out, /\+ create ConfigMap\/.*\/a\n(\s+\+ .*\n)*?\s+\+ data: \{"v":"1"\}\n/);
    assert.match(run.out, /2 to create, 0 to update, 0 to prune, 0 unchanged\./);
    assert.equal(await data('a'), undefined, 'a dry run applies nothing');

    run = await sync(dir, '--path', 'apps', '--name', 'demo');
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /Applied 2 object\(s\): 2 created or changed, 0 pruned\./);
    assert.deepEqual(await data('a'), { v: '1' });

    await writeFile(path.join(dir, 'apps', 'a.yaml'), configMap('a', '2'));
    await rm(path.join(dir, 'apps', 'b.yaml'));
    run = await sync(dir, '--path', 'apps', '--name', 'demo', '--dry-run');
    assert.match(
      run.out,
      /~ update ConfigMap\/.*\/a\n\s+- data\.v: "1"\n\s+\+ data\.v: "2"\n- prune  ConfigMap\/.*\/b\n0 to create, 1 to update, 1 to prune, 0 unchanged\./,
    );
    run = await sync(dir, '--path', 'apps', '--name', 'demo');
    assert.match(run.out, /1 created or changed, 1 pruned/);
    assert.deepEqual(await data('a'), { v: '2' });
    assert.equal(await data('b'), undefined);
    assert.ok(
      await kube().getOrNull({ apiVersion: 'v1', kind: 'ConfigMap', name: 'by-hand', namespace: ns.name }),
      'made by hand: kept',
    );

    const status = await trellis(['sync', 'status', '-n', ns.name, '--kubeconfig', testCluster().kubeconfig]);
    assert.equal(status.code, 0, status.err);
    assert.match(
      status.out,
      new RegExp(
        `\`trellis sync\` runs:\\nNAMESPACE\\s+NAME\\s+SOURCE\\s+REVISION\\s+OBJECTS\\s+APPLIED\\n${ns.name}\\s+demo\\s+${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+local\\s+1\\s+\\d+s`,
      ),
    );
  });

  it('fails with a readable error and exit 1 for invalid YAML and an escaping symlink, applying nothing', async () => {
    await writeFile(path.join(dir, 'a.yaml'), configMap('a', '1'));
    await writeFile(path.join(dir, 'bad.yaml'), 'kind: [\n');
    let run = await sync(dir);
    assert.equal(run.code, 1);
    assert.match(run.err, /^error: \[TRL_GITOPS_MANIFEST\] bad\.yaml#1: invalid YAML at line \d/);
    assert.doesNotMatch(run.err, /\n\s+at /);
    await rm(path.join(dir, 'bad.yaml'));
    await symlink('/etc/passwd', path.join(dir, 'passwd.yaml'));
    run = await sync(dir);
    assert.equal(run.code, 1);
    assert.match(run.err, /^error: \[TRL_GITOPS_PATH_ESCAPE\] symlink "passwd\.yaml" points outside/);
    assert.equal(await data('a'), undefined);
  });

  describe('from a repository over smart HTTP', () => {
    let repo: TestRepo;
    let server: GitHttpServer;
    const auth = { username: 'ci', password: 'cli-secret-password-123' };
    beforeEach(async () => {
      repo = await TestRepo.create();
      server = await GitHttpServer.start({ projectRoot: repo.root, auth });
    });
    afterEach(async () => {
      await server.stop();
      await repo.cleanup();
    });

    it('fetches with the credentials of a Secret and applies the commit; refuses a wrong one without echoing it', async () => {
      const head = await repo.commit({ 'deploy/a.yaml': configMap('a', 'git') });
      await kube().apply({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'git', namespace: ns.name },
        stringData: auth,
      });
      let run = await sync(server.urlFor('apps.git'), '--path', 'deploy', '--branch', 'main', '--secret', 'git');
      assert.equal(run.code, 0, run.err);
      assert.match(run.out, new RegExp(`Plan for ${server.urlFor('apps.git')} branch main at ${head.slice(0, 12)}`));
      assert.deepEqual(await data('a'), { v: 'git' });
      await kube().apply({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'git', namespace: ns.name },
        stringData: { ...auth, password: 'wrong-password-456' },
      });
      run = await sync(server.urlFor('apps.git'), '--secret', 'git');
      assert.equal(run.code, 1);
      assert.match(run.err, /\[TRL_GITOPS_GIT\] git fetch failed/);
      assert.doesNotMatch(run.out + run.err, /wrong-password-456|cli-secret-password-123/);
    });
  });
});
