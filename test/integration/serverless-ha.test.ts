import assert from 'node:assert/strict';
import http from 'node:http';
import { testCluster } from '../support/cluster.js';
import { eventually, useNamespace } from '../support/namespace.js';
import {
  deleteFunctions,
  firstRevision,
  metricValue,
  ReplicaHistory,
  request,
  startReplica,
  startRunner,
  testFunction,
} from '../support/serverless.js';
import type { KubeObject } from '../../kube/types.js';
import { jsonEqual } from '../../lib/equal.js';
import type { Slice } from '../../serverless/endpoints/slices.js';
import type { LocalRunner } from '../../serverless/runner/runner.js';
import type { FunctionSpec } from '../../serverless/function/config.js';

type Replica = Awaited<ReturnType<typeof startReplica>>;
const FAST: FunctionSpec['scale'] = { stableWindowSeconds: 1, panicWindowSeconds: 0.5, idleGraceSeconds: 0.3 };

describe('serverless: several activator replicas (real processes, real API server)', function () {
  let replicas: Replica[] = [];
  let runner: LocalRunner | undefined;
  let history: ReplicaHistory | undefined;
  afterEach(async () => {
    await history?.stop();
    if (ns.name) await deleteFunctions(ns.name);
    for (const r of replicas) await r.close();
    await runner?.stop();
    replicas = [];
    runner = history = undefined;
  });
  const ns = useNamespace('ha');

  /** Two replicas and a runner; resolves with [leader, standby] once one leads and each sees the other. */
  async function fleet(): Promise<[Replica, Replica]> {
    runner = await startRunner();
    replicas = [await startReplica(ns.name, 'replica-a'), await startReplica(ns.name, 'replica-b')];
    const leader = await eventually(async () => replicas.find((r) => r.manager.isLeader), {
      what: 'a leader',
      timeoutMs: 30_000,
    });
    await eventually(async () => replicas.every((r) => r.peers!.membership.members().length === 2), {
      what: 'each replica seeing the other',
    });
    return [leader, replicas.find((r) => r !== leader)!];
  }

  async function deploy(name: string, spec: FunctionSpec): Promise<void> {
    const { kube } = testCluster();
    await kube.apply(testFunction(ns.name, name, spec));
    await eventually(
      async () =>
        (await kube.getOrNull({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          namespace: ns.name,
          name: firstRevision(name),
        })) !== undefined,
      { what: 'the Deployment' },
    );
    history = new ReplicaHistory(kube, ns.name, firstRevision(name));
    await history.start();
  }

  it("wakes a function from zero through the standby's activator, and sizes it by what every activator sees", async () => {
    const [leader, standby] = await fleet();
    await deploy('agg', { concurrency: { target: 2 }, scale: { ...FAST, idleGraceSeconds: 3 } });
    await eventually(async () => history!.current === 0, { what: 'at zero', timeoutMs: 60_000 });
    const cold = await request(`${standby.url}/${ns.name}/agg/`);
    assert.equal(cold.status, 200, 'a request held at zero on the standby started an instance (through the leader)');
    // 6 concurrent requests, all through the standby: only the leader scales, and it sees them.
    const stopAt = Date.now() + 6_000;
    const statuses: number[] = [];
    const worker = async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      while (Date.now() < stopAt)
        statuses.push((await request(`${standby.url}/${ns.name}/agg/sleep?ms=100`, { agent })).status);
      agent.destroy();
    };
    const load = Promise.all(Array.from({ length: 6 }, worker));
    await eventually(async () => history!.current === 3, {
      what: '3 instances for a concurrency of 6 (target 2) seen only by the standby',
      timeoutMs: 30_000,
    });
    await load;
    assert.deepEqual([...new Set(statuses)], [200]);
    assert.ok(
      (await metricValue(leader.registry, 'trellis_autoscaler_decisions_total', { function: 'agg', result: 'up' })) >=
        1,
      'the leader decided it',
    );
    assert.equal(
      await metricValue(standby.registry, 'trellis_autoscaler_decisions_total', { function: 'agg' }),
      0,
      'the standby decides nothing',
    );
    assert.ok(
      (await metricValue(standby.registry, 'trellis_activator_requests_total', { function: 'agg', code: '200' })) > 6,
      "the standby's activator served them",
    );
  });

  it('loses no request over cycles of 1 → 0 → 1 with requests through both activators: instances are drained on both before they go', async () => {
    const [leader, standby] = await fleet();
    // A careless handler (dies at once on SIGTERM): only the drain on every activator keeps its requests whole.
    await deploy('cycle', { scale: FAST, env: [{ name: 'ON_SIGTERM', value: 'exit' }] });
    const outcomes: string[] = [];
    const inFlight = new Set<Promise<void>>();
    let n = 0;
    const fire = (label: string) => {
      const via = n++ % 2 === 0 ? leader : standby;
      const p = request(`${via.url}/${ns.name}/cycle/sleep?ms=40&${label}`).then(
        (r) => void outcomes.push(r.status === 200 ? '200' : `${label}: ${r.status} ${r.body}`),
        (err: Error) => void outcomes.push(`${label}: ${err.message}`),
      );
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    };
    let armed = false;
    // The moment the leader decides to go to zero (the drain starts on both), through both activators.
    leader.autoscaler.onDecision((d) => {
      if (!armed || d.desired !== 0 || d.current === 0) return;
      armed = false;
      for (const delay of [0, 1, 5, 20]) setTimeout(() => fire(`at-zero+${delay}ms`), delay);
    });
    const CYCLES = 5;
    for (let c = 0; c < CYCLES; c++) {
      for (let i = 0; i < 20; i++) fire(`burst-${c}`);
      while (inFlight.size) await Promise.all([...inFlight]);
      armed = true;
      await eventually(async () => !armed && inFlight.size === 0 && history!.current === 0, {
        what: `cycle ${c}: a scale to zero with requests around it`,
        timeoutMs: 30_000,
        intervalMs: 20,
      });
    }
    assert.equal(outcomes.length, CYCLES * 24);
    assert.deepEqual(
      outcomes.filter((o) => o !== '200'),
      [],
      'every request answered 200',
    );
    assert.ok(history!.wakeUps >= CYCLES - 1, `woke from zero again and again (history ${history!.values})`);
  });

  it("points the Function's own Service at every live activator, so it answers at zero by its cluster name; a replica that stops leaves it", async () => {
    const { kube } = testCluster();
    const [leader, standby] = await fleet();
    await deploy('pub', { scale: FAST });
    await eventually(async () => history!.current === 0, { what: 'at zero', timeoutMs: 60_000 });
    const service = await kube.get<KubeObject & { spec: { selector?: object; ports: { name: string }[] } }>({
      apiVersion: 'v1',
      kind: 'Service',
      namespace: ns.name,
      name: 'pub',
    });
    assert.equal(service.spec.selector, undefined, "no selector: its endpoints are the runtime's to write");
    const ports = (slices: Slice[]) => slices.flatMap((s) => s.ports?.map((p) => p.port) ?? []).sort();
    const both = [leader.activator.port, standby.activator.port].sort();
    const slices = await eventually(
      async () => {
        const live = await serviceSlices('pub');
        return jsonEqual(ports(live), both) && live;
      },
      { what: `the Service's EndpointSlices holding both activators (${both.join(', ')})` },
    );
    for (const s of slices) {
      assert.equal(s.addressType, 'FQDN', 'loopback activators as a .localhost name');
      assert.deepEqual(
        s.endpoints?.map((e) => e.addresses),
        [['activator.localhost']],
      );
      assert.equal(
        s.metadata.labels?.['endpointslice.kubernetes.io/managed-by'],
        'serverless.trellis.dev',
        "not the EndpointSlice controller's",
      );
      assert.equal(
        s.ports?.[0]?.name,
        service.spec.ports[0]!.name,
        "the Service port's name, as kube-proxy matches them",
      );
    }
    // A client in the cluster: the Service's endpoints as kube-proxy reads them, by its cluster name, at zero.
    for (const port of ports(slices)) {
      const answer = await request(`http://127.0.0.1:${port}/`, {
        headers: { host: `pub.${ns.name}.svc.cluster.local` },
      });
      assert.equal(answer.status, 200, `answered at zero through the endpoint on port ${port}`);
    }
    const bare = await request(`http://127.0.0.1:${leader.activator.port}/`, { headers: { host: 'pub' } });
    assert.equal(bare.status, 404, 'a bare name says no namespace');
    await standby.close();
    replicas = replicas.filter((r) => r !== standby);
    await eventually(async () => jsonEqual(ports(await serviceSlices('pub')), [leader.activator.port]), {
      what: "only the leader's activator left in the Service",
    });
    const after = await request(`http://127.0.0.1:${leader.activator.port}/`, { headers: { host: `pub.${ns.name}` } });
    assert.equal(after.status, 200);
  });

  async function serviceSlices(service: string): Promise<Slice[]> {
    const { kube } = testCluster();
    return (
      await kube.list<Slice>('discovery.k8s.io/v1', 'EndpointSlice', {
        namespace: ns.name,
        labelSelector: `kubernetes.io/service-name=${service}`,
      })
    ).items;
  }
});
