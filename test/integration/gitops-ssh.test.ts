import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fetchRepository } from '../../gitops/fetch.js';
import { TestRepo } from '../support/git-repo.js';
import { sshKeygen, SshGitServer, type KeyPair } from '../support/ssh-git-server.js';

describe('gitops: fetchRepository over ssh:// (OpenSSH client, real git-upload-pack)', () => {
  let repo: TestRepo;
  let server: SshGitServer;
  let client: KeyPair;
  let cacheDir: string;
  before(async () => {
    client = await sshKeygen('deploy-key');
  });
  beforeEach(async () => {
    repo = await TestRepo.create();
    server = await SshGitServer.start({ projectRoot: repo.root, clientKey: client.publicKey });
    cacheDir = await mkdtemp(path.join(os.tmpdir(), 'trellis-gitcache-'));
  });
  afterEach(async () => {
    await server.stop();
    await repo.cleanup();
    await rm(cacheDir, { recursive: true, force: true });
  });

  /** Temporary folders still holding this test's private key (other processes' folders may exist). */
  const leftKeys = async () => {
    const found: string[] = [];
    for (const dir of (await readdir(os.tmpdir())).filter((f) => f.startsWith('trellis-git-'))) {
      const key = await readFile(path.join(os.tmpdir(), dir, 'identity'), 'utf8').catch(() => '');
      if (key.includes(client.privateKey.split('\n')[1]!)) found.push(dir);
    }
    return found;
  };

  it('fetches with the deploy key and known_hosts, and removes the key file afterwards', async () => {
    const head = await repo.commit({ 'a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n' });
    const fetched = await fetchRepository({
      url: server.urlFor('apps.git'),
      ref: { branch: 'main' },
      cacheDir,
      credentials: { identity: client.privateKey, knownHosts: server.knownHosts },
    });
    assert.equal(fetched.commit, head);
    assert.ok(
      server.commands.some((c) => c.includes('upload-pack')),
      'the fetch went through the SSH server',
    );
    assert.deepEqual(await leftKeys(), [], 'no key file is left behind');
  });

  it('refuses a server whose host key is not in known_hosts, without showing the private key', async () => {
    await repo.commit({ 'a.yaml': 'x: 1\n' });
    const stranger = await sshKeygen('stranger');
    const wrongHosts = `[127.0.0.1]:${server.port} ${stranger.publicKey.split(' ').slice(0, 2).join(' ')}\n`;
    await assert.rejects(
      fetchRepository({
        url: server.urlFor('apps.git'),
        cacheDir,
        credentials: { identity: client.privateKey, knownHosts: wrongHosts },
      }),
      (err: Error) => {
        assert.match(
          err.message,
          /\[TRL_GITOPS_GIT\] git fetch failed .*(Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED)/,
        );
        assert.ok(!err.message.includes(client.privateKey.split('\n')[1]!), 'no line of the private key in the error');
        return true;
      },
    );
    assert.deepEqual(server.commands, [], 'nothing ran on an unverified server');
  });

  it('refuses a key the server does not accept, and an identity without known_hosts', async () => {
    await repo.commit({ 'a.yaml': 'x: 1\n' });
    const other = await sshKeygen('other');
    await assert.rejects(
      fetchRepository({
        url: server.urlFor('apps.git'),
        cacheDir,
        credentials: { identity: other.privateKey, knownHosts: server.knownHosts },
      }),
      /\[TRL_GITOPS_GIT\] git fetch failed .*Permission denied/,
    );
    await assert.rejects(
      fetchRepository({ url: server.urlFor('apps.git'), cacheDir, credentials: { identity: client.privateKey } }),
      /\[TRL_GITOPS_CREDENTIALS\] data\.known_hosts: an SSH `identity` needs `known_hosts` too/,
    );
  });
});
