/**
 * `trellis check [--pre]` through the built binary against the suite's API server: as its admin
 * (everything fine), as the chart's controller account (may not install: named rights), against a
 * port nobody listens on (unreachable, said once), and an installed Trellis' Deployments ready or not.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KubeObject } from '../../kube/index.js';
import { freePort } from '../../lib/ports.js';
import { runTrellis } from '../support/cli.js';
import { testCluster } from '../support/cluster.js';
import { eventually, useNamespace } from '../support/namespace.js';

const kubeconfig = () => testCluster().controlPlane.kubeconfigPath;

describe('trellis check (the built CLI, against the API server)', () => {
  it('--pre as a cluster admin: kubeconfig, API server and version, install rights, CUE engine all ✓', async () => {
    const r = await runTrellis(['check', '--pre', '--kubeconfig', kubeconfig()]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^✓ kubeconfig .*kubeconfig: context "\S+", server https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(
      lines[1]!,
      /^✓ API server https:\/\/127\.0\.0\.1:\d+ reachable: Kubernetes v1\.\d+\.\d+\S* \(≥ v1\.29\)$/,
    );
    assert.match(lines[2]!, /^✓ you may install Trellis into trellis-system: 12 rights checked/);
    assert.match(lines[3]!, /^✓ CUE engine: (native|wasm)/);
    assert.equal(lines[4], 'all checks passed');
  });

  it("--pre as an account that may not install (the chart's controller): ✗ naming the rights it lacks, exit 1", async () => {
    const r = await runTrellis(['check', '--pre', '--kubeconfig', testCluster().controllerKubeconfig]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^✓ API server /m);
    assert.match(
      r.stdout,
      /^✗ you may not install Trellis into trellis-system: you lack .*create customresourcedefinitions\.apiextensions\.k8s\.io.* — install as a cluster admin/m,
    );
    assert.match(r.stdout, /\n1 check failed\n$/);
    assert.equal(r.stderr, '');
  });

  it('an unreachable API server is ✗ with the reason, the later cluster checks skipped, no stack trace', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-check-'));
    try {
      const dead = path.join(dir, 'kubeconfig');
      const port = await freePort();
      writeFileSync(
        dead,
        readFileSync(kubeconfig(), 'utf8').replace(/server: https:\/\/[^\s]+/, `server: https://127.0.0.1:${port}`),
      );
      for (const args of [['check', '--pre'], ['check']]) {
        const r = await runTrellis([...args, '--kubeconfig', dead]);
        assert.equal(r.code, 1, r.stdout);
        assert.match(r.stdout, new RegExp(`^✗ \\[TRL_KUBE_UNREACHABLE\\] .*127\\.0\\.0\\.1:${port}`, 'm'));
        assert.doesNotMatch(r.stdout, /rights|CRDs/);
        assert.match(r.stdout, /\n1 check failed\n$/);
        assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, 'no stack trace');
      }
      const none = await runTrellis(['check', '--kubeconfig', path.join(dir, 'missing')]);
      assert.equal(none.code, 1);
      assert.match(none.stdout, /^✗ \[TRL_KUBE_NO_CONFIG\]|^✗ \[TRL_KUBE_CONFIG\]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('an installed Trellis', () => {
    const ns = useNamespace('cli-check');
    const deployment = (name: string, component: string, nodeSelector?: Record<string, string>): KubeObject => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name,
        namespace: ns.name,
        labels: { 'app.kubernetes.io/name': 'trellis', 'app.kubernetes.io/component': component },
      },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { ...(nodeSelector ? { nodeSelector } : {}), containers: [{ name: 'c', image: 'trellis:test' }] },
        },
      },
    });

    it('CRDs ✓; no Deployment is said (not failed); a ready one ✓, one that cannot start ✗ with what to run', async () => {
      const k = ['-n', ns.name, '--kubeconfig', kubeconfig()];
      const empty = await runTrellis(['check', ...k]);
      assert.equal(empty.code, 0, empty.stdout);
      assert.match(empty.stdout, /^✓ CRDs: all 18 installed, serving the versions this Trellis uses$/m);
      assert.match(empty.stdout, new RegExp(`^– no Trellis Deployment in ${ns.name} `, 'm'));

      const { kube } = testCluster();
      await kube.apply(deployment('trellis-controller', 'controller'));
      await kube.apply(deployment('trellis-webhook', 'webhook', { 'example.com/no-such-node': 'x' }));
      const r = await eventually(
        async () => {
          const x = await runTrellis(['check', ...k]);
          return /✓ Deployment \S+\/trellis-controller \(controller\): 1\/1 ready/.test(x.stdout) && x;
        },
        { what: 'the controller Deployment ready', timeoutMs: 60_000 },
      );
      assert.equal(r.code, 1);
      assert.match(
        r.stdout,
        new RegExp(
          `^✗ Deployment ${ns.name}/trellis-webhook \\(webhook\\): 0/1 ready — see why: \`kubectl -n ${ns.name} describe deployment trellis-webhook\``,
          'm',
        ),
      );
      assert.match(r.stdout, /\n1 check failed\n$/);
    });
  });
});
