/**
 * The activator and autoscaler under their own ServiceAccount, with exactly the chart's rules
 * (templates/rbac-activator.yaml): a Function is woken from zero twice and scaled back, a drained pod
 * the ReplicaSet kept is removed, the autoscaler holds its Lease, the replica its membership Lease
 * (renewed, deleted when it stops). The API server's audit log then
 * shows no refusal, and every right the chart grants the activator was used — a rule nobody uses
 * is a right an attacker on the traffic path would get for free.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import type { AuditEvent } from '../../controlplane/index.js';
import type { KubeObject } from '../../kube/index.js';
import { CHART_ACTIVATOR_SERVICE_ACCOUNT, CHART_NAMESPACE, renderChart } from '../support/chart.js';
import { startTrellis } from '../support/cli.js';
import { testCluster } from '../support/cluster.js';
import { eventually, useNamespace } from '../support/namespace.js';
import type { LocalRunner } from '../../serverless/runner/runner.js';
import {
  deleteFunctions,
  firstRevision,
  request,
  startReplica,
  startRunner,
  testFunction,
} from '../support/serverless.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const ACTIVATOR = `system:serviceaccount:${CHART_NAMESPACE}:${CHART_ACTIVATOR_SERVICE_ACCOUNT}`;
const right = (group: string, resource: string, verb: string) => `${verb} ${resource}${group ? `.${group}` : ''}`;

describe('the activator runs under its own least-privilege ServiceAccount', () => {
  const ns = useNamespace('act');
  let runtime: Awaited<ReturnType<typeof startReplica>> | undefined;
  let runner: LocalRunner | undefined;
  let controller: ChildProcess | undefined;
  ns.beforeDelete.push(async () => {
    await deleteFunctions(ns.name);
    if (controller && controller.exitCode === null) {
      controller.kill('SIGTERM');
      await new Promise((r) => controller!.once('exit', r));
    }
    await runtime?.close();
    runtime = undefined;
    await runner?.stop();
    runner = undefined;
  });

  it('is never refused, and uses every right the chart grants it', async () => {
    const { kube, controlPlane, helm } = testCluster();
    const from = (await controlPlane.auditEvents()).length;
    // The Function controller as the chart runs it: in `trellis controller --function-controller`,
    // as the controllers' ServiceAccount. Then one activator replica of several (the chart runs two):
    // leader election, membership Lease, peer API.
    controller = (
      await startTrellis(
        [
          'controller',
          '--function-controller',
          '--functions-backend',
          'local',
          '--namespace',
          ns.name,
          '--health-addr',
          '127.0.0.1:0',
          '--kubeconfig',
          testCluster().controllerKubeconfig,
        ],
        /^trellis controller running as/m,
      )
    ).child;
    runner = await startRunner();
    runtime = await startReplica(ns.name, 'a', { removalTimeoutMs: 200, functionController: false });
    const name = 'hello';
    const deployment = firstRevision(name);
    await kube.apply(
      testFunction(ns.name, name, {
        scale: { stableWindowSeconds: 1, panicWindowSeconds: 0.5, idleGraceSeconds: 0.5 },
      }),
    );
    const replicas = async () =>
      (
        await kube.getOrNull<KubeObject & { spec: { replicas?: number } }>({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          namespace: ns.name,
          name: deployment,
        })
      )?.spec.replicas;
    const pods = async () =>
      (await kube.list('v1', 'Pod', { namespace: ns.name, labelSelector: `serverless.trellis.dev/function=${name}` }))
        .items;
    const atZero = () =>
      eventually(async () => (await replicas()) === 0 && (await pods()).length === 0, {
        what: 'the function at zero with no pod',
        timeoutMs: 60_000,
      });
    await atZero();

    // Woken from zero twice (scale writes, an Event and then its repeat as a patch), scaled back
    // each time (the drained pod's deletion cost, then replicas).
    for (let i = 0; i < 2; i++) {
      const answer = await request(`${runtime.url}/${ns.name}/${name}/`);
      assert.equal(answer.status, 200, answer.body);
      await atZero();
    }
    // The Function's own Service points at the live activators: a second replica joins it, and
    // its slice is removed once it leaves.
    const slicePorts = async () =>
      (
        await kube.list<KubeObject & { ports?: { port: number }[] }>('discovery.k8s.io/v1', 'EndpointSlice', {
          namespace: ns.name,
          labelSelector: `kubernetes.io/service-name=${name}`,
        })
      ).items
        .flatMap((s) => s.ports?.map((p) => p.port) ?? [])
        .sort();
    const second = await startReplica(ns.name, 'b', { functionController: false });
    await eventually(async () => (await slicePorts()).length === 2, {
      what: "both activators in the Function's Service",
    });
    // One changed by hand is put back.
    type Slice = KubeObject & { addressType: string; endpoints: { addresses: string[] }[] };
    const [slice] = (
      await kube.list<Slice>('discovery.k8s.io/v1', 'EndpointSlice', {
        namespace: ns.name,
        labelSelector: `kubernetes.io/service-name=${name}`,
      })
    ).items;
    await kube.patch(
      { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', namespace: ns.name, name: slice!.metadata.name! },
      { endpoints: [{ addresses: ['elsewhere.localhost'] }] },
      'merge',
    );
    const sliceRef = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      namespace: ns.name,
      name: slice!.metadata.name!,
    };
    await eventually(
      async () => (await kube.get<Slice>(sliceRef)).endpoints[0]?.addresses[0] === 'activator.localhost',
      { what: 'the slice put back' },
    );
    await second.close();
    await eventually(async () => (await slicePorts()).join() === String(runtime!.activator.port), {
      what: "only the replica that stayed in the Function's Service",
      timeoutMs: 30_000,
    });
    // A drained pod the ReplicaSet kept is deleted by the autoscaler's scaler.
    assert.equal((await request(`${runtime.url}/${ns.name}/${name}/`)).status, 200);
    const [pod] = await pods();
    await runtime.scaler.ensureRemoved(`${ns.name}/${deployment}`, [
      { name: pod!.metadata.name!, uid: pod!.metadata.uid! },
    ]);

    // Watches are audited when they end: stop the runtime (it deletes its membership Lease), then
    // wait for them in the log.
    await deleteFunctions(ns.name);
    await runtime.close();
    runtime = undefined;
    const activatorEvents = async () =>
      (await controlPlane.auditEvents()).slice(from).filter((e: AuditEvent) => e.user.username === ACTIVATOR);
    const events = await eventually(
      async () => {
        const all = await activatorEvents();
        return all.filter((e) => e.verb === 'watch').length >= 5 && all;
      },
      { what: "the activator's watches in the audit log" },
    );
    const refused = events.filter((e) => e.responseStatus?.code === 403).map((e) => `${e.verb} ${e.requestURI}`);
    assert.deepEqual(refused, [], 'the activator was refused nothing');

    const objects = await renderChart(helm);
    const rules = objects
      .filter(
        (o) => (o.kind === 'ClusterRole' || o.kind === 'Role') && o.metadata.name === CHART_ACTIVATOR_SERVICE_ACCOUNT,
      )
      .flatMap((o) => (o as KubeObject & { rules: Rule[] }).rules);
    assert.ok(rules.length >= 5, "the chart has the activator's ClusterRole and Role");
    const granted = rules.flatMap((r) =>
      r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => right(g, res, v)))),
    );
    const used = new Set(
      events
        .filter((e) => e.objectRef?.resource && (e.responseStatus?.code ?? 0) < 400)
        .map((e) =>
          right(
            e.objectRef!.apiGroup ?? '',
            `${e.objectRef!.resource}${e.objectRef!.subresource ? `/${e.objectRef!.subresource}` : ''}`,
            e.verb,
          ),
        ),
    );
    assert.deepEqual(
      granted.filter((g) => !used.has(g)),
      [],
      `every granted right used (used: ${[...used].sort().join(', ')})`,
    );
    assert.deepEqual(
      [...used].filter((u) => !granted.includes(u)),
      [],
      "nothing used beyond the chart's rules",
    );
  });
});
