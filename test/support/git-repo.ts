import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Environment for test git commands: no user configuration, fixed identity. */
const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
};

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec('git', args, { cwd, env: GIT_ENV, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

/**
 * A real repository for tests: a bare repository (`bare`, what servers serve and `file://` points
 * at) and a work tree that commits and pushes to it.
 *
 * @example
 *   const repo = await TestRepo.create()
 *   const sha = await repo.commit({ 'apps/web.yaml': '...' }, 'add web')
 *   await repo.cleanup()
 */
export class TestRepo {
  private constructor(
    readonly root: string,
    readonly bare: string,
    readonly work: string,
  ) {}

  static async create(options: { name?: string; branch?: string; parent?: string } = {}): Promise<TestRepo> {
    const root = await mkdtemp(path.join(options.parent ?? os.tmpdir(), 'trellis-repo-'));
    const bare = path.join(root, `${options.name ?? 'apps'}.git`);
    const work = path.join(root, 'work');
    const branch = options.branch ?? 'main';
    await mkdir(bare);
    await git(bare, 'init', '--bare', '--quiet', `--initial-branch=${branch}`);
    await git(bare, 'config', 'http.receivepack', 'true');
    await git(root, 'init', '--quiet', `--initial-branch=${branch}`, work);
    await git(work, 'remote', 'add', 'origin', bare);
    return new TestRepo(root, bare, work);
  }

  /** `file://` URL of the bare repository. */
  get fileUrl(): string {
    return `file://${this.bare}`;
  }

  /**
   * Writes files (string: content; `null`: delete; `{ symlink }`: a symbolic link), commits and
   * pushes to the current branch. Returns the commit SHA.
   */
  async commit(files: Record<string, string | null | { symlink: string }>, message = 'change'): Promise<string> {
    for (const [rel, content] of Object.entries(files)) {
      const full = path.join(this.work, rel);
      if (content === null) {
        await rm(full, { recursive: true, force: true });
        continue;
      }
      await mkdir(path.dirname(full), { recursive: true });
      await rm(full, { force: true });
      if (typeof content === 'string') await writeFile(full, content);
      else await symlink(content.symlink, full);
    }
    await git(this.work, 'add', '--all');
    await git(this.work, 'commit', '--quiet', '--allow-empty', '-m', message);
    await git(this.work, 'push', '--quiet', '--force', 'origin', 'HEAD');
    return this.head();
  }

  async head(): Promise<string> {
    return git(this.work, 'rev-parse', 'HEAD');
  }

  async tag(name: string, options: { annotated?: boolean } = {}): Promise<void> {
    await git(this.work, 'tag', ...(options.annotated ? ['-a', '-m', name] : []), name);
    await git(this.work, 'push', '--quiet', 'origin', `refs/tags/${name}`);
  }

  /** Moves the branch back to `commit` and force-pushes: a history rewrite. */
  async forcePushTo(commit: string): Promise<void> {
    await git(this.work, 'reset', '--quiet', '--hard', commit);
    await git(this.work, 'push', '--quiet', '--force', 'origin', 'HEAD');
  }

  async checkoutNewBranch(name: string): Promise<void> {
    await git(this.work, 'checkout', '--quiet', '-b', name);
  }

  async cleanup(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}
