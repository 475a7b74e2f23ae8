/**
 * `trellis controller` as a real child process (as the chart's ServiceAccount): killed mid-reconcile
 * and restarted, and as two replicas electing a leader.
 */
import assert from 'node:assert/strict';
import { testCluster } from '../../support/cluster.js';
import { deploymentComponent } from '../../support/components.js';
import { eventually, useNamespace } from '../../support/namespace.js';
import { startTrellis, type RunningCommand } from '../../support/trellis-cli.js';
import { memoryCgroup, type MemoryCgroup } from '../../support/memory-cgroup.js';
import type { KubeObject } from '../../../kube/index.js';
import type { ApplicationConfiguration } from '../../../controllers/types.js';

const OAM = 'core.oam.dev/v1alpha2';

describe('trellis controller as a process', () => {
  const ns = useNamespace();
  const running: RunningCommand[] = [];
  ns.beforeDelete.push(async () => {
    for (const p of running.splice(0)) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGTERM');
        await p.exited;
      }
    }
  });

  async function controller(extra: string[] = [], options: { prefix?: string[]; logLevel?: string } = {}) {
    const p = await startTrellis(
      [
        'controller',
        '--kubeconfig',
        testCluster().controllerKubeconfig,
        '--namespace',
        ns.name,
        '--health-addr',
        '127.0.0.1:0',
        '--log-level',
        options.logLevel ?? 'warn',
        ...extra,
      ],
      /^trellis controller running as (\S+) \(health and metrics on 127\.0\.0\.1:(\d+)\)/,
      options.prefix ? { prefix: options.prefix } : {},
    );
    running.push(p);
    return { ...p, identity: p.match[1]!, port: Number(p.match[2]) };
  }
  const metric = async (port: number, re: RegExp) => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return [...text.matchAll(new RegExp(re, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0);
  };
  const writes = (port: number) =>
    metric(port, /^rest_client_requests_total\{code="\d+",method="(?:PATCH|POST|PUT|DELETE)",host="[^"]+"\} (\d+)$/);

  const component = (name: string) => {
    const c = deploymentComponent(ns.name, name, 'nginx');
    return { ...c, spec: { ...(c.spec as object), parameters: [{ name: 'name', fieldPaths: ['metadata.name'] }] } };
  };
  const app = (name: string, ports: number[]) => ({
    apiVersion: OAM,
    kind: 'ApplicationConfiguration',
    metadata: { name, namespace: ns.name },
    spec: {
      components: [
        {
          componentName: 'web',
          parameterValues: [{ name: 'name', value: name }],
          traits: ports.map((port) => ({
            trait: {
              apiVersion: 'v1',
              kind: 'Service',
              metadata: { name: `${name}-${port}` },
              spec: { selector: { app: 'web' }, ports: [{ port }] },
            },
          })),
        },
      ],
    },
  });
  const apps = async () =>
    (await testCluster().kube.list<ApplicationConfiguration>(OAM, 'ApplicationConfiguration', { namespace: ns.name }))
      .items;
  const allSynced = async () =>
    (await apps()).every(
      (a) =>
        a.status?.observedGeneration === a.metadata.generation &&
        a.status?.conditions?.find((c) => c.type === 'Synced')?.status === 'True',
    );
  /** Every Deployment and Service labelled as some AppConfig's, as `<app>:<Kind>/<name>`. */
  const children = async () => {
    const { kube } = testCluster();
    const of = async (apiVersion: string, kind: string) =>
      (
        await kube.list<KubeObject>(apiVersion, kind, { namespace: ns.name, labelSelector: 'app.oam.dev/name' })
      ).items.filter((o) => !o.metadata.deletionTimestamp);
    return [...(await of('apps/v1', 'Deployment')), ...(await of('v1', 'Service'))]
      .map((o) => `${o.metadata.labels!['app.oam.dev/name']}:${o.kind}/${o.metadata.name}`)
      .sort();
  };

  it('killed mid-reconcile (SIGKILL) and restarted, converges with no duplicate and no orphan', async () => {
    const { kube } = testCluster();
    await kube.apply(component('web'));
    const N = 12;
    const first = await controller(['--concurrency', '2']);
    for (let i = 0; i < N; i++) await kube.apply(app(`app-${i}`, [80, 81]));
    // Kill it as soon as it has written some children but not all.
    await eventually(async () => (await children()).length > 0, { what: 'the first children', timeoutMs: 60_000 });
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = await children();
    assert.ok(atKill.length < N * 3, `killed mid-way (${atKill.length} of ${N * 3} children existed)`);

    // While it is down: one AppConfig drops a trait, one is deleted, one is added.
    await kube.apply(app('app-0', [80]));
    await kube.delete({ apiVersion: OAM, kind: 'ApplicationConfiguration', name: 'app-1', namespace: ns.name });
    await kube.apply(app('app-new', [90]));

    await controller(['--concurrency', '2']);
    await eventually(allSynced, { what: 'every AppConfig Synced at its generation', timeoutMs: 120_000 });
    const expected = [
      'app-0:Deployment/app-0',
      'app-0:Service/app-0-80',
      ...Array.from({ length: N - 2 }, (_, k) => k + 2).flatMap((i) => [
        `app-${i}:Deployment/app-${i}`,
        `app-${i}:Service/app-${i}-80`,
        `app-${i}:Service/app-${i}-81`,
      ]),
      'app-new:Deployment/app-new',
      'app-new:Service/app-new-90',
    ].sort();
    // app-1's children go through the garbage collector (owner references), app-0's extra Service through prune.
    await eventually(async () => JSON.stringify(await children()) === JSON.stringify(expected), {
      what: `exactly the expected children (have ${(await children()).join(', ')})`,
      timeoutMs: 60_000,
    });
    for (const a of await apps()) {
      const inventory = (a.status?.inventory ?? []).map((e) => `${a.metadata.name}:${e.kind}/${e.name}`).sort();
      assert.deepEqual(
        inventory,
        expected.filter((e) => e.startsWith(`${a.metadata.name}:`)),
        `status.inventory of ${a.metadata.name}`,
      );
    }
  });

  it('with two replicas only the leader writes; killing it hands over within the lease duration', async () => {
    const { kube } = testCluster();
    await kube.apply(component('web'));
    const lease = `trellis-test-${ns.name}`;
    const election = [
      '--leader-elect',
      '--leader-election-namespace',
      'trellis-system',
      '--leader-election-id',
      lease,
      '--lease-duration',
      '4',
    ];
    const a = await controller([...election, '--identity', `a-${ns.name}`]);
    const holder = async () =>
      (
        await kube.getOrNull<
          KubeObject & {
            spec: { holderIdentity: string; renewTime: string; acquireTime: string; leaseTransitions: number };
          }
        >({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name: lease, namespace: 'trellis-system' })
      )?.spec;
    await eventually(async () => (await holder())?.holderIdentity === a.identity, { what: 'a leads' });
    const b = await controller([...election, '--identity', `b-${ns.name}`]);
    for (let i = 0; i < 4; i++) await kube.apply(app(`app-${i}`, [80]));
    await eventually(allSynced, { what: 'synced by the leader', timeoutMs: 60_000 });
    assert.equal(await writes(b.port), 0, 'the standby wrote nothing');
    assert.ok((await writes(a.port)) > 0);
    assert.equal(await metric(b.port, new RegExp(`^leader_election_master_status\\{name="${lease}"\\} (\\d+)$`)), 0);
    assert.equal(
      await metric(
        b.port,
        /^controller_runtime_reconcile_total\{controller="applicationconfiguration",result="success"\} (\d+)$/,
      ),
      0,
    );

    const before = (await holder())!;
    a.child.kill('SIGKILL');
    await eventually(async () => (await holder())?.holderIdentity === b.identity, {
      what: 'b takes over',
      timeoutMs: 30_000,
    });
    const after = (await holder())!;
    assert.equal(after.leaseTransitions, before.leaseTransitions + 1);
    const gapMs = Date.parse(after.acquireTime) - Date.parse(before.renewTime);
    // Never before the lease expired (no two leaders), and taken over within the lease duration of expiry
    // (the standby tries every 4/7.5 s); the Lease's own timestamps, not this test's clock.
    assert.ok(gapMs >= 4000, `waited for the lease to expire (${gapMs} ms after the last renewal)`);
    assert.ok(
      gapMs < 8000,
      `took over within the lease duration after it expired (${gapMs} ms after the last renewal)`,
    );
    await kube.apply(app('after-handover', [80]));
    await eventually(
      async () =>
        (await apps())
          .find((x) => x.metadata.name === 'after-handover')
          ?.status?.conditions?.some((c) => c.type === 'Synced' && c.status === 'True'),
      { what: 'the new leader reconciles', timeoutMs: 60_000 },
    );
    assert.ok((await writes(b.port)) > 0);
  });

  describe('in a container with a memory limit', () => {
    let cgroup: MemoryCgroup | undefined;
    before(async function () {
      const made = await memoryCgroup(`trellis-test-${process.pid}`, 512 * 2 ** 20);
      if ('unavailable' in made) {
        // Recorded, not silent: CI runs as root (.ci/run refuses to run otherwise), so this never skips there.
        console.log(`    skipped: ${made.unavailable}`);
        this.skip();
      }
      cgroup = made;
    });
    // After the namespace's hooks have stopped the controller: a cgroup goes once its processes have.
    after(() => cgroup?.remove());

    it("sizes V8's heap from the limit (the chart's 512Mi), says so when it starts, and reconciles within it", async () => {
      const { kube } = testCluster();
      const p = await controller([], { prefix: cgroup!.prefix, logLevel: 'info' });
      await eventually(async () => p.stderr().includes('"controller running"'), { what: 'the start log line' });
      const line = JSON.parse(
        p
          .stderr()
          .split('\n')
          .find((l) => l.includes('"controller running"'))!,
      ) as {
        heapLimitMiB?: number;
        containerMemoryMiB?: number;
      };
      assert.equal(line.containerMemoryMiB, 512, `the start line names the container's limit: ${JSON.stringify(line)}`);
      // Node gives V8 about half the limit (not the 4 GiB it takes on this machine without one).
      assert.ok(line.heapLimitMiB! > 128 && line.heapLimitMiB! < 512, `V8's heap limit ${line.heapLimitMiB} MiB`);
      await kube.apply(component('web'));
      await kube.apply(app('limited', [80]));
      await eventually(allSynced, { what: 'the AppConfig Synced within the limit', timeoutMs: 60_000 });
      assert.deepEqual(await children(), ['limited:Deployment/limited', 'limited:Service/limited-80']);
      assert.equal(await cgroup!.oomKills(), 0);
    });
  });
});
