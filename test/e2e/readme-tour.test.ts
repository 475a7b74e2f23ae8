import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../../controlplane/index.js';
import { startTrellis } from '../support/cli.js';

const exec = promisify(execFile);

/** The ```sh blocks between `<!-- tour:start -->` and `<!-- tour:end -->` of README.md, in order. */
function tourSteps(): string[] {
  const readme = readFileSync(path.join(packageRoot(), 'README.md'), 'utf8');
  const tour = /<!-- tour:start -->([\s\S]*)<!-- tour:end -->/.exec(readme)?.[1];
  assert.ok(tour, 'README.md has a tour between <!-- tour:start --> and <!-- tour:end -->');
  return [...tour.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
}

/**
 * What a reader sees after each step (after step 1, which this test runs itself). One entry per
 * README block: a step added to the tour needs its expectation here.
 */
const EXPECT: ((out: string) => void)[] = [
  // 2. render
  (out) => {
    for (const kind of ['Deployment', 'Service', 'Ingress', 'Function']) assert.match(out, new RegExp(`^kind: ${kind}$`, 'm'), `renders a ${kind}`);
    assert.match(out, /image: nginx:1\.27/);
    assert.match(out, /replicas: 2/);
  },
  // 3. watch it run
  (out) => {
    assert.match(out, /applicationconfiguration\.core\.oam\.dev\/shop condition met/);
    assert.match(out, /shop\s+True\s+True/, 'kubectl get appconfig: Synced True, Ready True');
    assert.match(out, /Ready\s+True\s+Healthy/, 'trellis status: the Ready condition');
    assert.match(out, /web\s+web-v1\s+Deployment\/web\s+healthy/, 'trellis status: the web component');
    assert.match(out, /^web\s+2\/2\s+2\s+2/m, 'kubectl get deployment: two replicas ready');
    assert.match(out, /web-ingress\s+\S+\s+shop\.localhost/, 'kubectl get ingress: the host');
  },
  // 4. change the image
  (out) => {
    assert.match(out, /component\.core\.oam\.dev\/web patched/);
    assert.match(out, /deployment\.apps\/web condition met/);
    assert.match(out, /^2\s+web-v2\s+.*current/m, 'trellis revisions: web-v2 is current');
    assert.match(out, /^1\s+web-v1\s+.*1 field/m, 'trellis revisions: web-v1 differs in one field');
    assert.match(out, /- spec\.workload\.properties\.image: "nginx:1\.28"\n\s+\+ spec\.workload\.properties\.image: "nginx:1\.27"/, 'trellis revisions: what a rollback would change');
  },
  // 5. roll back
  (out) => {
    assert.match(out, /component web pinned to web-v1 \(was web-v2\)/);
    assert.match(out, /deployment\.apps\/web condition met/);
  },
  // 6. a function that scales to zero
  (out) => {
    const gets = [...out.matchAll(/^hello\s+http:\/\/hello\.default\.fn\.localhost\s+(\d+)\s+(\d+)\s+(\S+)/gm)].map((m) => m.slice(1));
    assert.deepEqual(gets, [['0', '0', 'ScaledToZero'], ['0', '0', 'ScaledToZero']], 'at zero before the request and again after it');
    assert.match(out, /^hello from Trellis$/m, 'the function answered');
    assert.equal(out.match(/function\.serverless\.trellis\.dev\/hello condition met/g)?.length, 2, 'one instance ran, then none');
  },
];

describe('README: the five-minute tour, verbatim, against `trellis up`', function () {
  this.timeout(900_000);
  let dir: string;
  let up: { child: ChildProcess; output: () => string; match: RegExpExecArray } | undefined;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'trellis-tour-'));
  });
  after(async () => {
    if (up && up.child.exitCode === null) {
      up.child.kill('SIGINT');
      await new Promise((r) => up!.child.once('exit', r));
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('has one expectation per step', () => {
    const steps = tourSteps();
    assert.equal(steps[0], 'npx trellis up examples/quickstart');
    assert.equal(steps.length - 1, EXPECT.length);
  });

  it('every step shows what the README says it shows', async () => {
    const [start, ...steps] = tourSteps();
    // Step 1 as written, in a data folder of its own and on a free port for the functions.
    up = await startTrellis([...start!.replace(/^npx trellis /, '').split(' '), '--data-dir', path.join(dir, 'data'), '--functions-port', '0'], /Functions answer at (http:\/\/\S+?) /, { timeoutMs: 600_000 });
    const kubeconfig = /export KUBECONFIG=(\S+)/.exec(up.output())?.[1];
    assert.ok(kubeconfig, 'step 1 prints the export KUBECONFIG line');
    const functionsUrl = up.match[1]!;
    for (const [i, step] of steps.entries()) {
      // What the reader sees: stdout and stderr as they come.
      const script = `exec 2>&1\n${step.replaceAll('http://127.0.0.1:8080', functionsUrl)}`;
      const { stdout } = await exec('bash', ['-euo', 'pipefail', '-c', script], { cwd: packageRoot(), env: { ...process.env, KUBECONFIG: kubeconfig }, maxBuffer: 16 * 1024 * 1024 }).catch((err: Error & { stdout?: string; stderr?: string }) => {
        throw new Error(`step ${i + 2} failed:\n${step}\n${err.stdout ?? ''}${err.stderr ?? ''}`, { cause: err });
      });
      try {
        EXPECT[i]!(stdout);
      } catch (err) {
        throw new Error(`step ${i + 2}: ${(err as Error).message}\n--- it printed:\n${stdout}`, { cause: err });
      }
    }
  });
});
