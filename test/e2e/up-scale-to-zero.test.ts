import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../../controlplane/index.js';
import { KubeClient, type KubeObject } from '../../kube/index.js';
import { startTrellis, UP_READY_MS } from '../support/cli.js';
import { CONFORMANCE_DIR } from '../support/conformance.js';
import { eventually } from '../support/namespace.js';
import { request } from '../support/serverless.js';

type Fn = KubeObject & {
  status?: { readyReplicas?: number; desiredReplicas?: number; conditions?: { type: string; reason?: string }[] };
};

describe("trellis up: the seed's OpenFaaS Function scales to zero with the scale-to-zero trait (examples/scale-to-zero)", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'trellis-up-zero-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the seed Component unchanged, goes to zero when idle and comes back on a request', async function () {
    // Its own waits (up to UP_READY_MS for up, 120 s per Function to reach zero) outlast mocha's 120 s default.
    this.timeout(600_000);
    const example = path.join(packageRoot(), 'examples', 'scale-to-zero');
    assert.equal(
      readFileSync(path.join(example, 'component.yaml'), 'utf8'),
      readFileSync(path.join(CONFORMANCE_DIR, 'seed-openfaas-function-component.yaml'), 'utf8'),
      "the Component is the seed's, byte for byte",
    );
    const up = await startTrellis(
      ['up', '.', '--data-dir', path.join(dir, 'data'), '--functions-port', '0', '--shutdown-timeout', '30'],
      /Functions answer at (http:\/\/\S+) /,
      { cwd: example, timeoutMs: UP_READY_MS },
    );
    const exited = new Promise<number | null>((resolve) => (up.child as ChildProcess).once('exit', resolve));
    const kubeconfig = /export KUBECONFIG=(\S+)/.exec(up.output())![1]!;
    const kube = await KubeClient.connect({ kubeconfig, fieldManager: 'test' });
    try {
      const url = up.match[1]!;
      for (const { apiVersion, name } of [
        { apiVersion: 'openfaas.com/v1', name: 'web-function' },
        { apiVersion: 'serverless.trellis.dev/v1alpha1', name: 'nodeinfo' },
      ]) {
        const call = async () => {
          const r = await request(`${url}/default/${name}/`);
          assert.equal(r.status, 200, `${name}: ${r.body}`);
          assert.match(r.body, /^Hostname: /, "answered by main.js (node main.js, the seed's handler)");
        };
        await call();
        const ref = { apiVersion, kind: 'Function', namespace: 'default', name };
        await eventually(
          async () => {
            const fn = await kube.get<Fn>(ref);
            return (
              fn.status?.conditions?.find((c) => c.type === 'Ready')?.reason === 'ScaledToZero' &&
              fn.status.desiredReplicas === 0
            );
          },
          { what: `${name} scaled to zero after 10 s idle`, timeoutMs: 120_000, intervalMs: 500 },
        );
        const pods = await kube.list('v1', 'Pod', {
          namespace: 'default',
          labelSelector: `serverless.trellis.dev/function=${name}`,
        });
        assert.deepEqual(
          pods.items.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name),
          [],
          `${name}: no instance left`,
        );
        await call();
      }
    } finally {
      kube.close();
      up.child.kill('SIGINT');
    }
    const code = await exited;
    // What went wrong while stopping is in up's log, not its output: show its warnings with the output.
    const log = readFileSync(path.join(dir, 'data', 'trellis.log'), 'utf8')
      .split('\n')
      .filter((l) => /"level":"(warn|error|fatal)"/.test(l));
    assert.equal(code, 0, `${up.output().slice(-2000)}\n${log.slice(-20).join('\n')}`);
  });
});
