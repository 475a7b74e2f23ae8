/**
 * The CLI's day-two commands through the built binary against the suite's API server: `trellis
 * version` with the server's version (and plainly without it).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../lib/ports.js';
import { runTrellis } from '../support/cli.js';
import { testCluster } from '../support/cluster.js';

describe('trellis day-two commands (the built CLI, against the API server)', () => {
  const kubeconfig = () => testCluster().controlPlane.kubeconfigPath;

  it('version prints the client and the server version; an unreachable server is said on stderr, exit 0', async () => {
    const { gitVersion } = await testCluster().kube.request<{ gitVersion: string }>('/version');
    const up = await runTrellis(['version', '--kubeconfig', kubeconfig()]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /^trellis \d+\.\d+\.\d+ \(local control plane: Kubernetes v1\.\d+\.\d+, Node\.js v\d+/);
    assert.match(up.stdout, new RegExp(`^server: Kubernetes ${gitVersion.replace(/[.+]/g, '\\$&')} at https://`, 'm'));
    assert.equal(up.stderr, '');

    const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-version-'));
    try {
      const dead = path.join(dir, 'kubeconfig');
      const port = await freePort();
      writeFileSync(
        dead,
        readFileSync(kubeconfig(), 'utf8').replace(/server: https:\/\/[^\s]+/, `server: https://127.0.0.1:${port}`),
      );
      const down = await runTrellis(['version', '--kubeconfig', dead]);
      assert.equal(down.code, 0, down.stderr);
      assert.match(down.stdout, /^trellis \d+\.\d+\.\d+ /);
      assert.doesNotMatch(down.stdout, /^server:/m);
      assert.match(down.stderr, new RegExp(`^server: unknown: \\[TRL_KUBE_UNREACHABLE\\] .*127\\.0\\.0\\.1:${port}`));
      assert.doesNotMatch(down.stderr, /\n\s+at /, 'no stack trace');

      const client = await runTrellis(['version', '--client', '--kubeconfig', dead]);
      assert.equal(client.code, 0);
      assert.equal(client.stderr, '');
      const usage = await runTrellis(['version', 'extra']);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /^error: unexpected argument "extra"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
