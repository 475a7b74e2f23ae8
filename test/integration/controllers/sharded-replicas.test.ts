/**
 * `trellis controller --shards` as three real processes sharing the work (the bounded version of
 * bench/shards: 24 apps, 2 kill -9 during a rollout), proven exclusive from the API server's audit log.
 */
import assert from 'node:assert/strict';
import { testCluster } from '../../support/cluster.js';
import { trellis } from '../../support/cli.js';
import { eventually, useNamespace } from '../../support/namespace.js';
import { exclusiveWrites } from '../../support/shards.js';
import { startTrellis, type RunningCommand } from '../../support/trellis-cli.js';
import type { KubeObject, LeaseObject } from '../../../kube/index.js';
import type { ApplicationConfiguration, Component } from '../../../controllers/types.js';
import { LABEL_SHARD_GROUP, shardOf } from '../../../runtime/index.js';

const OAM = 'core.oam.dev/v1alpha2';
const APPS = 24;
const SHARDS = 6;
const app = (i: number) => `a${String(i).padStart(2, '0')}`;

describe('controllers: sharded between replicas (trellis controller --shards)', () => {
  const ns = useNamespace('shard');
  const group = () => `shards-${ns.name}`;
  const running = new Map<string, RunningCommand & { port: number }>();
  ns.beforeDelete.push(async () => {
    for (const p of running.values()) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGTERM');
        await p.exited;
      }
    }
    running.clear();
    const { kube } = testCluster();
    for (const l of (
      await kube.list<LeaseObject>('coordination.k8s.io/v1', 'Lease', {
        namespace: 'trellis-system',
        labelSelector: `${LABEL_SHARD_GROUP}=${group()}`,
      })
    ).items) {
      await kube.delete({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        namespace: 'trellis-system',
        name: l.metadata.name!,
      });
    }
  });

  async function replica(name: string) {
    const args = [
      'controller',
      '--kubeconfig',
      testCluster().controllerKubeconfig,
      '--namespace',
      ns.name,
      '--shards',
      String(SHARDS),
      '--lease-duration',
      '6',
      '--leader-election-id',
      group(),
      '--identity',
      name,
      '--health-addr',
      '127.0.0.1:0',
      '--log-level',
      'warn',
    ];
    const p = await startTrellis(
      args,
      /^trellis controller running as \S+ \(health and metrics on 127\.0\.0\.1:(\d+)\)/,
      { timeoutMs: 120_000 },
    );
    running.set(name, { ...p, port: Number(p.match[1]) });
  }
  async function kill(name: string) {
    const p = running.get(name)!;
    p.child.kill('SIGKILL');
    await p.exited;
    running.delete(name);
  }
  /** Shards each live replica says it reconciles (`trellis_shard_owned` of its /metrics). */
  async function owned(): Promise<Map<string, number[]>> {
    const result = new Map<string, number[]>();
    for (const [name, p] of running) {
      const text = await (await fetch(`http://127.0.0.1:${p.port}/metrics`)).text();
      result.set(
        name,
        [...text.matchAll(/^trellis_shard_owned\{shard="(\d+)",replica="([^"]+)"\} 1$/gm)]
          .map((m) => Number(m[1]))
          .sort((a, b) => a - b),
      );
    }
    return result;
  }
  const evenlySplit = async () => {
    const o = await owned();
    const all = [...o.values()].flat();
    return (
      all.length === SHARDS &&
      new Set(all).size === SHARDS &&
      [...o.values()].every((s) => s.length === SHARDS / o.size) &&
      o
    );
  };

  async function converged(image: string) {
    const { kube } = testCluster();
    const apps = (await kube.list<ApplicationConfiguration>(OAM, 'ApplicationConfiguration', { namespace: ns.name }))
      .items;
    const deployments = (
      await kube.list<KubeObject & { spec: { template: { spec: { containers: { image: string }[] } } } }>(
        'apps/v1',
        'Deployment',
        { namespace: ns.name },
      )
    ).items;
    return (
      apps.length === APPS &&
      apps.every(
        (a) =>
          a.status?.observedGeneration === a.metadata.generation &&
          a.status?.conditions?.some((c) => c.type === 'Synced' && c.status === 'True'),
      ) &&
      deployments.length === APPS &&
      deployments.every((d) => d.spec.template.spec.containers[0]?.image === image)
    );
  }

  it('splits the applications between 3 replicas, converges through 2 kill -9 during a rollout, and never lets two reconcile one object (audit log)', async function () {
    // Three process starts, 24 apps rolled out twice, two lease expiries: 22 s on a quiet machine,
    // 62–81 s at load 20–25 — past mocha's 120 s default at load 30, long before its own waits give up.
    this.timeout(900_000);
    const { kube, controlPlane } = testCluster();
    await Promise.all(['r0', 'r1', 'r2'].map(replica));
    const component = (i: number, image: string): Component => ({
      apiVersion: OAM,
      kind: 'Component',
      metadata: { name: `${app(i)}-web`, namespace: ns.name },
      spec: { workload: { type: 'webservice', properties: { image, port: 8080 } } },
    });
    for (let i = 0; i < APPS; i++) {
      await kube.apply(component(i, 'example.com/web:1'));
      await kube.apply({
        apiVersion: OAM,
        kind: 'ApplicationConfiguration',
        metadata: { name: app(i), namespace: ns.name },
        spec: {
          components: [
            {
              componentName: `${app(i)}-web`,
              traits: [
                { trait: { name: 'scaler', properties: { replicas: 0 } } },
                { trait: { name: 'expose', properties: { ports: [{ port: 9090, targetPort: 8080 }] } } },
              ],
            },
          ],
        },
      });
    }
    await eventually(() => converged('example.com/web:1'), {
      what: 'every application converged on 3 replicas',
      timeoutMs: 300_000,
      intervalMs: 1000,
    });
    const split = await eventually(evenlySplit, {
      what: `${SHARDS} shards split 2/2/2`,
      timeoutMs: 60_000,
      intervalMs: 500,
    });

    // trellis status names the replica reconciling an application, as that replica's /metrics do.
    const shard = shardOf(`${ns.name}/${app(0)}`, SHARDS);
    const holder = [...split].find(([, s]) => s.includes(shard))![0];
    const status = await trellis(['status', app(0), '--kubeconfig', testCluster().kubeconfig, '-n', ns.name]);
    assert.equal(status.code, 0, status.err);
    assert.match(status.out, new RegExp(`\\nreconciled by ${holder} \\(shard ${shard} of ${SHARDS}\\)\\n`));
    const table = await trellis(['status', '--shards', '--kubeconfig', testCluster().kubeconfig]);
    assert.match(table.out, new RegExp(`group ${group()}: ${SHARDS} shards; held per replica: r0: 2, r1: 2, r2: 2`));

    // Two rollouts of every application, each with a replica killed (kill -9) as it starts and a
    // replacement started (as a Deployment would): the dead one's shards are taken over once expired.
    for (const [version, victim, replacement] of [
      [2, 'r0', 'r3'],
      [3, 'r1', 'r4'],
    ] as const) {
      await kube.apply(component(0, `example.com/web:${version}`));
      await kill(victim);
      for (let i = 1; i < APPS; i++) await kube.apply(component(i, `example.com/web:${version}`));
      await replica(replacement);
      await eventually(() => converged(`example.com/web:${version}`), {
        what: `every application rolled out to ${version} after ${victim} was killed`,
        timeoutMs: 300_000,
        intervalMs: 1000,
      });
      await eventually(evenlySplit, {
        what: `shards split evenly again with ${replacement}`,
        timeoutMs: 120_000,
        intervalMs: 500,
      });
    }

    // 0 orphans, 0 duplicated children: each live child is in its application's inventory, and each application has exactly its own.
    const apps = (await kube.list<ApplicationConfiguration>(OAM, 'ApplicationConfiguration', { namespace: ns.name }))
      .items;
    const inventory = new Set(
      apps.flatMap((a) => (a.status?.inventory ?? []).map((e) => `${a.metadata.name}/${e.kind}/${e.name}`)),
    );
    for (const [apiVersion, kind, perApp] of [
      ['apps/v1', 'Deployment', 1],
      ['v1', 'Service', 2],
    ] as const) {
      const children = (
        await kube.list<KubeObject>(apiVersion, kind, { namespace: ns.name, labelSelector: 'app.oam.dev/name' })
      ).items;
      const orphans = children.filter(
        (c) => !inventory.has(`${c.metadata.labels!['app.oam.dev/name']}/${kind}/${c.metadata.name}`),
      );
      assert.deepEqual(
        orphans.map((o) => o.metadata.name),
        [],
        `${kind}s in no inventory`,
      );
      assert.equal(children.length, APPS * perApp, `${kind}s: ${perApp} per application, no duplicate`);
    }

    // The audit log: every write to an application, its children, its Component and revisions came
    // from the replica holding that key's shard at the time; no write conflicted with another replica's.
    const appOf = (name: string) => /^(a\d\d)(?:-web)?/.exec(name)?.[1];
    const report = exclusiveWrites(await controlPlane.auditEvents(), {
      group: group(),
      shards: SHARDS,
      shardOf: (e) => {
        const ref = e.objectRef;
        if (ref?.namespace !== ns.name || !ref.name) return undefined;
        if (
          ref.resource === 'applicationconfigurations' ||
          ref.resource === 'deployments' ||
          ref.resource === 'services'
        )
          return shardOf(`${ns.name}/${appOf(ref.name)}`, SHARDS);
        if (ref.resource === 'components') return shardOf(`${ns.name}/${ref.name}`, SHARDS);
        if (ref.resource === 'controllerrevisions')
          return shardOf(`${ns.name}/${ref.name.replace(/-v\d+$/, '')}`, SHARDS);
        return undefined;
      },
    });
    assert.deepEqual(report.violations, [], 'writes made while another replica held the shard');
    assert.deepEqual(report.conflicts, [], 'write conflicts');
    assert.ok(report.writes > APPS * 4, `the log holds the run's writes (${report.writes})`);
    assert.ok(
      report.replicas.includes('r3'),
      `a replacement replica reconciled the second rollout: ${report.replicas.join(', ')}`,
    );
    assert.ok(report.handovers >= SHARDS + 4, `shards changed hands after the kills (${report.handovers} tenures)`);
  });
});
