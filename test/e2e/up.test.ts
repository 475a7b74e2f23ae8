import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { runTrellis, startTrellis, UP_READY_MS } from '../support/cli.js';

const exec = promisify(execFile);

describe('trellis up', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'trellis-up-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const exited = (child: import('node:child_process').ChildProcess) =>
    new Promise<number | null>((resolve) => child.once('exit', resolve));

  // Room for load 30: starting may take up to UP_READY_MS, and stopping is given 30 s (the 1.5 s
  // default, a person's Ctrl-C, exits 1 when a loaded machine stops the stack more slowly).
  const UP_ARGS = ['--shutdown-timeout', '30'];

  it('starts a cluster with Trellis inside, applies the given files, prints the KUBECONFIG line and stops cleanly on Ctrl-C', async function () {
    this.timeout(UP_READY_MS + 120_000);
    const manifests = path.join(dir, 'manifests');
    await exec('mkdir', ['-p', manifests]);
    await writeFile(
      path.join(manifests, 'cm.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: kept-across-restarts }\ndata: { greeting: hello }\n',
    );
    const up = await startTrellis(
      ['up', manifests, '--data-dir', path.join(dir, 'data'), ...UP_ARGS],
      /export KUBECONFIG=(\S+)/,
      { timeoutMs: UP_READY_MS },
    );
    const kubeconfig = up.match[1]!;
    try {
      assert.match(up.output(), /\[up\] starting kube-apiserver/, 'progress is shown while starting');
      const { stdout } = await exec('kubectl', [
        '--kubeconfig',
        kubeconfig,
        'get',
        'configmap',
        'kept-across-restarts',
        '-o',
        'jsonpath={.data.greeting}',
      ]);
      assert.equal(stdout, 'hello');
      const crds = await exec('kubectl', ['--kubeconfig', kubeconfig, 'get', 'crd', '-o', 'name']);
      assert.match(crds.stdout, /applicationconfigurations\.core\.oam\.dev/);
      const webhooks = await exec('kubectl', [
        '--kubeconfig',
        kubeconfig,
        'get',
        'validatingwebhookconfigurations',
        '-o',
        'name',
      ]);
      assert.match(webhooks.stdout, /trellis/);
    } finally {
      up.child.kill('SIGINT');
    }
    assert.equal(await exited(up.child), 0);
    assert.match(up.output(), /\[up\] stopped/);
  });

  it('keeps the cluster data across a restart with the same --data-dir', async function () {
    this.timeout(UP_READY_MS + 120_000);
    const up = await startTrellis(['up', '--data-dir', path.join(dir, 'data'), ...UP_ARGS], /export KUBECONFIG=(\S+)/, {
      timeoutMs: UP_READY_MS,
    });
    try {
      const { stdout } = await exec('kubectl', [
        '--kubeconfig',
        up.match[1]!,
        'get',
        'configmap',
        'kept-across-restarts',
        '-o',
        'jsonpath={.data.greeting}',
      ]);
      assert.equal(stdout, 'hello');
    } finally {
      up.child.kill('SIGINT');
    }
    assert.equal(await exited(up.child), 0);
  });

  it('fails in a second, with the path and no stack trace, when a file to apply does not exist', async () => {
    const result = await runTrellis(['up', path.join(dir, 'nope'), '--data-dir', path.join(dir, 'data')]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: \[TRL_MANIFEST_PATH\] .*nope: no such file or folder\n$/);
  });
});
