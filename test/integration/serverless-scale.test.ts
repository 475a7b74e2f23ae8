import assert from 'node:assert/strict';
import http from 'node:http';
import { testCluster } from '../support/cluster.js';
import { eventually, useNamespace } from '../support/namespace.js';
import {
  firstRevision,
  metricValue,
  ReplicaHistory,
  request,
  startServerless,
  testFunction,
} from '../support/serverless.js';
import type { KubeObject } from '../../kube/index.js';
import type { FunctionSpec } from '../../serverless/function/config.js';

/** Windows short enough that a test sees scale to zero in about two seconds. */
const FAST: FunctionSpec['scale'] = { stableWindowSeconds: 1.5, panicWindowSeconds: 0.5, idleGraceSeconds: 0.5 };

describe('serverless: activator + autoscaler + local runner against the real API server', function () {
  let runtime: Awaited<ReturnType<typeof startServerless>> | undefined;
  let history: ReplicaHistory | undefined;
  // Registered before useNamespace: the runtime stops before its namespace is deleted.
  afterEach(async () => {
    await history?.stop();
    await runtime?.close();
    runtime = history = undefined;
  });
  const ns = useNamespace('fn');

  async function deploy(
    name: string,
    spec: FunctionSpec = {},
  ): Promise<{ url: (path?: string) => string; history: ReplicaHistory }> {
    const { kube } = testCluster();
    runtime = await startServerless(ns.name);
    await kube.apply(testFunction(ns.name, name, { scale: FAST, ...spec }));
    history = new ReplicaHistory(kube, ns.name, firstRevision(name));
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
    await history.start();
    const base = runtime.url;
    return { url: (path = '/') => `${base}/${ns.name}/${name}${path}`, history };
  }

  const atZero = async (name: string) => {
    const { kube } = testCluster();
    await eventually(
      async () =>
        history!.current === 0 &&
        (await kube.list('v1', 'Pod', { namespace: ns.name, labelSelector: `serverless.trellis.dev/function=${name}` }))
          .items.length === 0,
      { what: `${name} at zero with no pod left`, timeoutMs: 60_000 },
    );
  };

  it('answers a request that arrives at zero, starting an instance for it', async () => {
    const fn = await deploy('cold');
    await atZero('cold');
    const answer = await request(fn.url('/'));
    assert.equal(answer.status, 200);
    assert.equal(JSON.parse(answer.body).greeting, 'hello');
    assert.ok(history!.wakeUps >= 1, `replicas went up from zero (history ${history!.values})`);
    const activations = await metricValue(runtime!.registry, 'trellis_activator_activations_total', {
      function: 'cold',
    });
    assert.equal(activations, 1);
  });

  it('asks for exactly one scale-up for a burst of 200 simultaneous cold requests, and answers them all', async () => {
    const fn = await deploy('burst');
    await atZero('burst');
    const wakeUpsBefore = history!.wakeUps;
    const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => request(fn.url(`/sleep?ms=20&i=${i}`), { agent })),
    );
    agent.destroy();
    assert.deepEqual(
      answers.filter((a) => a.status !== 200).map((a) => `${a.status} ${a.body}`),
      [],
      'every request answered 200',
    );
    assert.equal(
      await metricValue(runtime!.registry, 'trellis_activator_activations_total', { function: 'burst' }),
      1,
      'the activator asked once',
    );
    assert.equal(
      await metricValue(runtime!.registry, 'trellis_autoscaler_scale_writes_total', {
        function: 'burst',
        reason: 'activation',
      }),
      1,
      'one scale-up write from zero',
    );
    assert.equal(history!.wakeUps - wakeUpsBefore, 1, `replicas left zero once (history ${history!.values})`);
  });

  it('runs ceil(concurrency / target) instances under sustained load, then scales back to zero', async () => {
    const { kube } = testCluster();
    // A longer grace: the load starts on a ready instance, so the autoscaler (not an activation from
    // zero) is what grows it.
    const fn = await deploy('load', { concurrency: { target: 2 }, scale: { ...FAST, idleGraceSeconds: 5 } });
    await eventually(
      async () =>
        (
          await kube.get<KubeObject & { status?: { readyReplicas?: number } }>({
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            namespace: ns.name,
            name: firstRevision('load'),
          })
        ).status?.readyReplicas === 1,
      { what: 'the first instance ready', timeoutMs: 30_000 },
    );
    const stopAt = Date.now() + 6_000;
    const statuses: number[] = [];
    let maxReplicas = 0;
    const worker = async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      while (Date.now() < stopAt) statuses.push((await request(fn.url('/sleep?ms=100'), { agent })).status);
      agent.destroy();
    };
    const load = Promise.all(Array.from({ length: 6 }, worker)); // 6 concurrent / target 2 → 3 instances
    const ready = await eventually(
      async () => {
        const d = await kube.get<KubeObject & { spec: { replicas: number }; status?: { readyReplicas?: number } }>({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          namespace: ns.name,
          name: firstRevision('load'),
        });
        maxReplicas = Math.max(maxReplicas, d.spec.replicas);
        return d.spec.replicas === 3 && d.status?.readyReplicas === 3 && d;
      },
      { what: '3 ready instances under a concurrency of 6 with target 2', timeoutMs: 30_000 },
    );
    assert.equal(ready.spec.replicas, 3);
    await load;
    assert.ok(
      Math.max(...history!.values.filter((_, i) => i > 0)) <= 4,
      `never far above ceil(6/2) (history ${history!.values})`,
    );
    assert.deepEqual([...new Set(statuses)], [200]);
    await atZero('load');
    // Each decision's result is a metric; a change of decision is an Event that names its inputs.
    assert.ok(
      (await metricValue(runtime!.registry, 'trellis_autoscaler_decisions_total', {
        function: 'load',
        result: 'up',
      })) >= 1,
      'an "up" decision counted',
    );
    assert.ok(
      (await metricValue(runtime!.registry, 'trellis_autoscaler_decisions_total', {
        function: 'load',
        result: 'zero',
      })) >= 1,
      'a "zero" decision counted',
    );
    const scaleEvents = await eventually(
      async () => {
        const events = (
          await kube.list('v1', 'Event', { namespace: ns.name, fieldSelector: 'involvedObject.name=load' })
        ).items as (KubeObject & { reason?: string; message?: string })[];
        const up = events.find(
          (e) =>
            (e.reason === 'ScaleUp' || e.reason === 'PanicMode') &&
            /^revision load-00001: desired [2-9]\b.*target 2\)/.test(e.message ?? ''),
        );
        const zero = events.find((e) => e.reason === 'ScaleToZero');
        return up && zero && { up, zero };
      },
      { what: "a ScaleUp (or PanicMode) and a ScaleToZero Event naming the decision's inputs" },
    );
    assert.match(scaleEvents.zero.message!, /^revision load-00001: desired 0 /);
  });
});
