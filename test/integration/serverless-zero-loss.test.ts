import assert from 'node:assert/strict';
import { testCluster } from '../support/cluster.js';
import { eventually, useNamespace } from '../support/namespace.js';
import { zeroCycles } from '../support/zero-cycles.js';
import {
  firstRevision,
  metricValue,
  ReplicaHistory,
  request,
  startServerless,
  testFunction,
} from '../support/serverless.js';
import type { FunctionSpec } from '../../serverless/function/config.js';

const CYCLES = 8;

describe('serverless: no request is lost when scaling 1 → 0 → 1 (real processes, real API server)', function () {
  let runtime: Awaited<ReturnType<typeof startServerless>> | undefined;
  let history: ReplicaHistory | undefined;
  // Registered before useNamespace: the runtime stops before its namespace is deleted.
  afterEach(async () => {
    await history?.stop();
    await runtime?.close();
    runtime = history = undefined;
  });
  const ns = useNamespace('zero');

  /** The handler dies at once on SIGTERM: only the drain handshake keeps its requests from being cut. */
  async function deploy(name: string, scale: FunctionSpec['scale']): Promise<(path: string) => string> {
    const { kube } = testCluster();
    runtime = await startServerless(ns.name, { tickMs: 50 });
    await kube.apply(testFunction(ns.name, name, { scale, env: [{ name: 'ON_SIGTERM', value: 'exit' }] }));
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
    return (path) => `${runtime!.url}/${ns.name}/${name}${path}`;
  }

  it(`answers every request 200 over ${CYCLES} cycles, including requests fired as the last instance is drained and removed`, async () => {
    const url = await deploy('cycle', { stableWindowSeconds: 0.6, panicWindowSeconds: 0.2, idleGraceSeconds: 0.2 });
    const result = await zeroCycles({ autoscaler: runtime!.autoscaler, history: history!, url, cycles: CYCLES });
    assert.equal(result.sent, CYCLES * (20 + 4 + 3));
    assert.deepEqual(result.failures, [], 'every request answered 200');
    const toZero = history!.values.filter((v, i) => v === 0 && i > 0).length;
    assert.ok(toZero >= CYCLES, `scaled to zero at least ${CYCLES} times (history ${history!.values})`);
    assert.ok(history!.wakeUps >= CYCLES, `woke up from zero at least ${CYCLES} times (history ${history!.values})`);
    const calledOff = await metricValue(runtime!.registry, 'trellis_autoscaler_drains_total', {
      function: 'cycle',
      outcome: 'called-off',
    });
    const committed = await metricValue(runtime!.registry, 'trellis_autoscaler_drains_total', {
      function: 'cycle',
      outcome: 'committed',
    });
    assert.ok(committed >= CYCLES, `drains committed: ${committed}, called off: ${calledOff}`);
  });

  it('never cuts off a request that runs longer than the idle grace and the stable window', async () => {
    const url = await deploy('long', { stableWindowSeconds: 0.5, panicWindowSeconds: 0.2, idleGraceSeconds: 0.2 });
    const { kube } = testCluster();
    await eventually(async () => history!.current === 0, { what: 'at zero', timeoutMs: 30_000 });
    const started = history!.values.length;
    const answer = await request(url('/stream?chunks=8&ms=500'));
    assert.equal(answer.status, 200);
    assert.equal(answer.body.trim().split('\n').length, 8, 'all 8 chunks arrived (4 s, eight times the grace)');
    assert.deepEqual(history!.values.slice(started), [1], 'replicas stayed at 1 while the request ran');
    await eventually(async () => history!.current === 0, { what: 'back at zero after the request', timeoutMs: 30_000 });
    const events = (
      await kube.list('v1', 'Event', { namespace: ns.name, fieldSelector: 'involvedObject.name=long' })
    ).items.map((e) => e.reason as string);
    assert.ok(events.includes('ScaleToZero'), `a ScaleToZero event was recorded (${events})`);
    assert.ok(events.includes('Activated'), `an Activated event was recorded (${events})`);
  });
});
