import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fetchRepository } from '../../gitops/fetch.js';
import { readCommitFiles } from '../../gitops/git-tree.js';
import { git, TestRepo } from '../support/git-repo.js';
import { GitHttpServer } from '../support/git-http-server.js';

const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  k: v\n`;

/** Command lines of every process on the machine we may read. */
async function allCommandLines(): Promise<string[]> {
  const out: string[] = [];
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const line = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (line) out.push(line.replace(/\0/g, ' '));
  }
  return out;
}

describe('gitops: fetchRepository + readCommitFiles (real git)', function () {
  let repo: TestRepo;
  let cacheDir: string;
  beforeEach(async () => {
    repo = await TestRepo.create();
    cacheDir = await mkdtemp(path.join(os.tmpdir(), 'trellis-gitcache-'));
  });
  afterEach(async () => {
    await repo.cleanup();
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('fetches one shallow commit of the branch over file:// and reads the manifests under the path', async () => {
    await repo.commit({ 'apps/a.yaml': cm('a') }, 'first');
    const head = await repo.commit(
      {
        'apps/b.yml': cm('b'),
        'apps/notes.md': '# not a manifest',
        '.github/ci.yaml': 'on: push',
        'other/c.yaml': cm('c'),
      },
      'second',
    );
    const fetched = await fetchRepository({ url: repo.fileUrl, ref: { branch: 'main' }, cacheDir });
    assert.equal(fetched.commit, head);
    assert.equal(fetched.ref, 'branch main');
    assert.equal(await git(fetched.repo, 'rev-parse', '--is-shallow-repository'), 'true');
    assert.equal(await git(fetched.repo, 'rev-list', '--count', 'refs/trellis/fetched'), '1');
    const files = await readCommitFiles(fetched.repo, fetched.commit, 'apps');
    assert.deepEqual(
      files.map((f) => f.path),
      ['apps/a.yaml', 'apps/b.yml'],
    );
    assert.equal(files[1]!.content, cm('b'));
  });

  it('resolves HEAD, a tag, an annotated tag, a semver range and a pinned commit', async () => {
    const one = await repo.commit({ 'a.yaml': cm('v1') });
    await repo.tag('v1.2.0');
    const two = await repo.commit({ 'a.yaml': cm('v2') });
    await repo.tag('v1.3.1', { annotated: true });
    const three = await repo.commit({ 'a.yaml': cm('v3') });
    await repo.tag('v2.0.0');
    await repo.tag('not-a-version');
    const at = (ref: Parameters<typeof fetchRepository>[0]['ref']) =>
      fetchRepository({ url: repo.fileUrl, cacheDir, ...(ref ? { ref } : {}) });
    assert.equal((await at(undefined)).commit, three);
    assert.equal((await at({ tag: 'v1.2.0' })).commit, one);
    assert.equal((await at({ tag: 'v1.3.1' })).commit, two);
    const ranged = await at({ semver: '>=1.0.0 <2.0.0' });
    assert.equal(ranged.commit, two);
    assert.equal(ranged.ref, 'tag v1.3.1 (semver >=1.0.0 <2.0.0)');
    assert.equal((await at({ commit: one })).commit, one);
  });

  it('names a missing branch, an unmatched semver range and a malformed ref with TRL_GITOPS_REF', async () => {
    await repo.commit({ 'a.yaml': cm('a') });
    await assert.rejects(
      fetchRepository({ url: repo.fileUrl, ref: { branch: 'nope' }, cacheDir }),
      /\[TRL_GITOPS_REF\] spec\.ref: the repository has no branch nope/,
    );
    await assert.rejects(
      fetchRepository({ url: repo.fileUrl, ref: { semver: '^9' }, cacheDir }),
      /\[TRL_GITOPS_REF\] spec\.ref\.semver: no tag matches semver range "\^9"/,
    );
    await assert.rejects(
      fetchRepository({ url: repo.fileUrl, ref: { branch: 'a..b' }, cacheDir }),
      /\[TRL_GITOPS_REF\] spec\.ref\.branch: "a\.\.b" is not a valid branch name/,
    );
    await assert.rejects(
      fetchRepository({ url: repo.fileUrl, ref: { branch: 'main', tag: 'v1' }, cacheDir }),
      /set at most one of branch, tag, semver, commit/,
    );
  });

  it('follows a force-push back to an older commit', async () => {
    const old = await repo.commit({ 'a.yaml': cm('old') });
    const newer = await repo.commit({ 'a.yaml': cm('new') });
    assert.equal((await fetchRepository({ url: repo.fileUrl, ref: { branch: 'main' }, cacheDir })).commit, newer);
    await repo.forcePushTo(old);
    const fetched = await fetchRepository({ url: repo.fileUrl, ref: { branch: 'main' }, cacheDir });
    assert.equal(fetched.commit, old);
    assert.equal((await readCommitFiles(fetched.repo, fetched.commit, '.'))[0]!.content, cm('old'));
  });

  it('refuses the ext:: transport without running it', async () => {
    const marker = path.join(cacheDir, 'pwned');
    await assert.rejects(fetchRepository({ url: `ext::sh -c touch% ${marker}`, cacheDir }), /\[TRL_GITOPS_URL\]/);
    await assert.rejects(readFile(marker), /ENOENT/);
  });

  it('stops a repository that grows past the size limit with TRL_GITOPS_TOO_LARGE', async () => {
    await repo.commit({ 'big.yaml': `# ${randomBytes(3 * 1024 * 1024).toString('base64')}\n` });
    await assert.rejects(
      fetchRepository({ url: repo.fileUrl, cacheDir, maxRepoBytes: 1024 * 1024 }),
      /\[TRL_GITOPS_TOO_LARGE\]/,
    );
  });

  describe('paths cannot escape the repository', () => {
    it('follows a symlink that stays inside, and refuses one that leaves', async () => {
      await repo.commit({
        'shared/base.yaml': cm('base'),
        'apps/base.yaml': { symlink: '../shared/base.yaml' },
        'apps/more': { symlink: '../shared' },
      });
      let fetched = await fetchRepository({ url: repo.fileUrl, cacheDir });
      assert.deepEqual(
        (await readCommitFiles(fetched.repo, fetched.commit, 'apps')).map((f) => [f.path, f.content]),
        [
          ['apps/base.yaml', cm('base')],
          ['apps/more/base.yaml', cm('base')],
        ],
      );

      await repo.commit({ 'apps/passwd.yaml': { symlink: '../../../../../../etc/passwd' } });
      fetched = await fetchRepository({ url: repo.fileUrl, cacheDir });
      await assert.rejects(
        readCommitFiles(fetched.repo, fetched.commit, 'apps'),
        /\[TRL_GITOPS_PATH_ESCAPE\] symlink "apps\/passwd\.yaml" points to "\.\.\/.*etc\/passwd", outside the repository/,
      );
      await repo.commit({ 'apps/passwd.yaml': { symlink: '/etc/passwd' } });
      fetched = await fetchRepository({ url: repo.fileUrl, cacheDir });
      await assert.rejects(
        readCommitFiles(fetched.repo, fetched.commit, 'apps'),
        /points to the absolute path "\/etc\/passwd"/,
      );
    });

    it('refuses a sync path with .. or an absolute path, and one through an escaping symlink', async () => {
      await repo.commit({ 'apps/a.yaml': cm('a'), out: { symlink: '..' } });
      const fetched = await fetchRepository({ url: repo.fileUrl, cacheDir });
      await assert.rejects(
        readCommitFiles(fetched.repo, fetched.commit, '../etc'),
        /\[TRL_GITOPS_PATH_ESCAPE\] spec\.path: "\.\.\/etc" leaves the repository/,
      );
      await assert.rejects(readCommitFiles(fetched.repo, fetched.commit, 'apps/../../x'), /leaves the repository/);
      await assert.rejects(readCommitFiles(fetched.repo, fetched.commit, '/etc'), /is absolute/);
      await assert.rejects(
        readCommitFiles(fetched.repo, fetched.commit, 'out/etc'),
        /symlink "out" points to "\.\.", outside the repository/,
      );
      await assert.rejects(
        readCommitFiles(fetched.repo, fetched.commit, 'missing'),
        /\[TRL_GITOPS_PATH\] spec\.path: "missing" does not exist/,
      );
    });
  });

  describe('over smart HTTP with basic auth', () => {
    const auth = { username: 'deploy', password: `pw-${randomBytes(12).toString('hex')}` };
    let server: GitHttpServer;
    afterEach(async () => server?.stop());

    it('fetches with the credentials, and fails without them, never showing the password', async () => {
      server = await GitHttpServer.start({ projectRoot: repo.root, auth });
      const head = await repo.commit({ 'a.yaml': cm('a') });
      const url = server.urlFor('apps.git');
      assert.equal((await fetchRepository({ url, ref: { branch: 'main' }, cacheDir, credentials: auth })).commit, head);
      assert.ok(
        server.requests.some((r) => r.authorized && r.method === 'POST'),
        'the fetch went through the authenticated backend',
      );
      await assert.rejects(fetchRepository({ url, cacheDir }), (err: Error) => {
        assert.match(
          err.message,
          /\[TRL_GITOPS_GIT\] git fetch failed .*(Authentication failed|could not read Username)/,
        );
        return true;
      });
      await assert.rejects(
        fetchRepository({ url, cacheDir, credentials: { username: 'deploy', password: `${auth.password}x` } }),
        (err: Error) => {
          assert.match(err.message, /Authentication failed/);
          assert.doesNotMatch(err.message, new RegExp(auth.password));
          return true;
        },
      );
    });

    it('keeps the password out of every process command line while git runs', async () => {
      server = await GitHttpServer.start({ projectRoot: repo.root, auth, delayMs: 400 });
      await repo.commit({ 'a.yaml': cm('a') });
      const fetching = fetchRepository({ url: server.urlFor('apps.git'), cacheDir, credentials: auth });
      const seen: string[] = [];
      while (!seen.some((l) => /git.* fetch /.test(l) && l.includes(server.urlFor('apps.git')))) {
        seen.push(...(await allCommandLines()));
        await new Promise((r) => setTimeout(r, 20));
      }
      seen.push(...(await allCommandLines()));
      await fetching;
      assert.ok(
        seen.some((l) => l.includes('remote-http') || l.includes('remote-curl') || / fetch /.test(l)),
        'observed git while it fetched',
      );
      assert.deepEqual(
        seen.filter((l) => l.includes(auth.password)),
        [],
      );
    });

    it('gives up after the timeout with TRL_GITOPS_TIMEOUT', async () => {
      server = await GitHttpServer.start({ projectRoot: repo.root, auth, delayMs: 5000 });
      await repo.commit({ 'a.yaml': cm('a') });
      await assert.rejects(
        fetchRepository({ url: server.urlFor('apps.git'), cacheDir, credentials: auth, timeoutMs: 500 }),
        /\[TRL_GITOPS_TIMEOUT\] git fetch did not finish within 500 ms/,
      );
    });
  });
});
