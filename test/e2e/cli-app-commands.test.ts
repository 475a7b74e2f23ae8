/**
 * The CLI's day-two commands through the built binary against the suite's API server: `trellis
 * version` with the server's version (and plainly without it), `trellis tree` and `trellis events`
 * of an AppConfig the controllers reconciled.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../lib/ports.js';
import { runTrellis } from '../support/cli.js';
import { testCluster } from '../support/cluster.js';
import { useControllers } from '../support/controllers.js';
import { eventually, useNamespace } from '../support/namespace.js';
import type { KubeObject } from '../../kube/index.js';

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

  describe('of a reconciled ApplicationConfiguration', () => {
    const ns = useNamespace('cli-app');
    useControllers(ns);
    const k = () => ['-n', ns.name, '--kubeconfig', kubeconfig()];

    it('tree shows component → workload → children with health; events lists its Events oldest first', async () => {
      const { kube } = testCluster();
      await kube.apply({
        apiVersion: 'core.oam.dev/v1alpha2',
        kind: 'Component',
        metadata: { name: 'web', namespace: ns.name },
        spec: { workload: { type: 'webservice', properties: { image: 'nginx:1.27' } } },
      } as KubeObject);
      await kube.apply({
        apiVersion: 'core.oam.dev/v1alpha2',
        kind: 'ApplicationConfiguration',
        metadata: { name: 'shop', namespace: ns.name },
        spec: {
          components: [{ componentName: 'web', traits: [{ trait: { name: 'scaler', properties: { replicas: 2 } } }] }],
        },
      } as KubeObject);
      await eventually(
        async () => {
          const app = await kube.getOrNull<KubeObject & { status?: { inventory?: unknown[] } }>({
            apiVersion: 'core.oam.dev/v1alpha2',
            kind: 'ApplicationConfiguration',
            namespace: ns.name,
            name: 'shop',
          });
          return (app?.status?.inventory?.length ?? 0) >= 2;
        },
        { what: 'shop applied' },
      );
      // An Event about a child, older than the controller's, and one about an object shop does not own.
      const event = (name: string, kind: string, object: string, time: string) => ({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace: ns.name },
        involvedObject: { apiVersion: 'apps/v1', kind, name: object, namespace: ns.name },
        reason: 'Tested',
        message: `about ${object}`,
        type: 'Warning',
        firstTimestamp: time,
        lastTimestamp: time,
        source: { component: 'test' },
      });
      await kube.create(event('old', 'Deployment', 'web', '2020-01-01T00:00:00Z') as unknown as KubeObject);
      await kube.create(event('other', 'Deployment', 'elsewhere', '2020-01-01T00:00:00Z') as unknown as KubeObject);

      const tree = await runTrellis(['tree', 'shop', ...k()]);
      assert.equal(tree.code, 0, tree.stderr);
      const lines = tree.stdout.trimEnd().split('\n');
      assert.match(lines[0]!, /^ApplicationConfiguration\/shop  Synced=True Ready=(True|False)$/);
      assert.equal(lines[1], '└─ component web (revision web-v1)');
      assert.match(lines[2]!, /^   ├─ Deployment\/web \(workload\)  [0-2]\/2 ready [✓✗]$/);
      assert.match(lines[3]!, /^   └─ Service\/web  present$/);

      const events = await eventually(
        async () => {
          const r = await runTrellis(['events', 'shop', ...k()]);
          return /ApplicationConfiguration\/shop/.test(r.stdout) && r;
        },
        { what: 'an Event of shop' },
      );
      assert.equal(events.code, 0, events.stderr);
      const rows = events.stdout.trimEnd().split('\n');
      assert.match(rows[0]!, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/);
      assert.match(rows[1]!, /^\S+\s+Warning\s+Tested\s+Deployment\/web\s+about web$/, 'the oldest first');
      assert.ok(
        rows.slice(2).some((r) => /\s+Normal\s+Applied\s+ApplicationConfiguration\/shop\s/.test(r)),
        events.stdout,
      );
      assert.doesNotMatch(events.stdout, /elsewhere/);
      const json = JSON.parse((await runTrellis(['events', 'shop', '-o', 'json', ...k()])).stdout) as {
        items: KubeObject[];
      };
      assert.equal(json.items[0]!.metadata.name, 'old');

      const missing = await runTrellis(['tree', 'nope', ...k()]);
      assert.equal(missing.code, 1);
      assert.equal(
        missing.stderr,
        `error: [TRL_STATUS_NOT_FOUND] ApplicationConfiguration/${ns.name}/nope: no such ApplicationConfiguration\n`,
      );
      const usage = await runTrellis(['events', ...k()]);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /^error: name one ApplicationConfiguration/);
    });
  });
});
