import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../../controlplane/index.js';
import { startTrellis } from './cli.js';

const exec = promisify(execFile);

/** The ```sh blocks between `<!-- <marker>:start -->` and `<!-- <marker>:end -->` of README.md, in order. */
export function tourSteps(marker: string): string[] {
  const readme = readFileSync(path.join(packageRoot(), 'README.md'), 'utf8');
  const tour = new RegExp(`<!-- ${marker}:start -->([\\s\\S]*)<!-- ${marker}:end -->`).exec(readme)?.[1];
  assert.ok(tour, `README.md has a tour between <!-- ${marker}:start --> and <!-- ${marker}:end -->`);
  return [...tour.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
}

export interface TourOptions {
  /** The environment of `trellis up` and of every step, over this process's. @default this process's */
  env?: () => NodeJS.ProcessEnv | Promise<NodeJS.ProcessEnv>;
  /** Checks what `trellis up` printed until it was up. */
  expectUp?: (output: string) => void;
}

/**
 * Follows a README tour verbatim for the tests of a `describe`: its first block must be
 * `npx trellis up ...` (run here, in a data folder of its own, functions on a free port); every
 * further block runs in bash as the reader would, with the KUBECONFIG it printed, and `expect[i]`
 * checks what block i + 2 printed (stdout and stderr as they come).
 *
 * @example
 *   describe('README: the tour', function () { this.timeout(900_000); followTour('tour', [(out) => assert.match(out, /.../)]) })
 */
export function followTour(marker: string, expect: ((out: string) => void)[], options: TourOptions = {}): void {
  let dir: string;
  let up: { child: ChildProcess; output: () => string; match: RegExpExecArray } | undefined;
  let env: NodeJS.ProcessEnv = {};

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), `trellis-${marker}-`));
    env = (await options.env?.()) ?? {};
  });
  after(async () => {
    if (up && up.child.exitCode === null) {
      up.child.kill('SIGINT');
      await new Promise((r) => up!.child.once('exit', r));
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('has one expectation per step', () => {
    const steps = tourSteps(marker);
    assert.match(steps[0]!, /^npx trellis up( \S+)?$/);
    assert.equal(steps.length - 1, expect.length);
  });

  it('every step shows what the README says it shows', async () => {
    const [start, ...steps] = tourSteps(marker);
    up = await startTrellis(
      [
        ...start!.replace(/^npx trellis /, '').split(' '),
        '--data-dir',
        path.join(dir, 'data'),
        '--functions-port',
        '0',
      ],
      /Functions answer at (http:\/\/\S+?) /,
      { timeoutMs: 600_000, env },
    );
    options.expectUp?.(up.output());
    const kubeconfig = /export KUBECONFIG=(\S+)/.exec(up.output())?.[1];
    assert.ok(kubeconfig, 'step 1 prints the export KUBECONFIG line');
    const functionsUrl = up.match[1]!;
    for (const [i, step] of steps.entries()) {
      const script = `exec 2>&1\n${step.replaceAll('http://127.0.0.1:8080', functionsUrl)}`;
      const { stdout } = await exec('bash', ['-euo', 'pipefail', '-c', script], {
        cwd: packageRoot(),
        env: { ...process.env, ...env, KUBECONFIG: kubeconfig },
        maxBuffer: 16 * 1024 * 1024,
      }).catch((err: Error & { stdout?: string; stderr?: string }) => {
        throw new Error(`step ${i + 2} failed:\n${step}\n${err.stdout ?? ''}${err.stderr ?? ''}`, { cause: err });
      });
      try {
        expect[i]!(stdout);
      } catch (err) {
        throw new Error(`step ${i + 2}: ${(err as Error).message}\n--- it printed:\n${stdout}`, { cause: err });
      }
    }
  });
}
