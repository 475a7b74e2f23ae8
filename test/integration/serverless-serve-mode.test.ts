import assert from 'node:assert/strict';
import { testCluster } from '../support/cluster.js';
import { eventually, useNamespace } from '../support/namespace.js';
import { firstRevision, metricValue, ReplicaHistory, startServerless, testFunction } from '../support/serverless.js';
import { ServiceClient, ServiceLoad, type ServiceOutcome } from '../support/service-client.js';
import type { KubeObject } from '../../kube/types.js';
import type { DecisionRecord } from '../../serverless/autoscaler/autoscaler.js';
import type { FunctionSpec } from '../../serverless/function/config.js';

const FAST: FunctionSpec['scale'] = { stableWindowSeconds: 1, panicWindowSeconds: 0.5, idleGraceSeconds: 0.3 };

/**
 * Issue 13 item 3 (docs/adr/0017-instance-meter.md): a warm revision with spare capacity gets the
 * activators out of its path — the Function's own Service points at its instances, whose meters the
 * autoscaler adds to the activators' counts — and the Service goes back to the activators under a
 * burst and before a scale to zero. Clients call the Service as kube-proxy routes it
 * ({@link ServiceClient}); everything stays on loopback.
 */
describe('serverless: out of the path when warm (serve mode; real API server, runner and processes)', function () {
  const ns = useNamespace('serve');
  let runtime: Awaited<ReturnType<typeof startServerless>> | undefined;
  let history: ReplicaHistory | undefined;
  let client: ServiceClient | undefined;
  let loads: ServiceLoad[] = [];
  afterEach(async () => {
    for (const l of loads) await l.stop();
    await client?.stop();
    await history?.stop();
    await runtime?.close();
    loads = [];
    runtime = history = client = undefined;
  });

  it("points a warm Function's Service at its metered instances, and back at the activators under a burst and to go to zero — no request lost", async () => {
    const { kube } = testCluster();
    runtime = await startServerless(ns.name);
    const decisions: DecisionRecord[] = [];
    runtime.autoscaler.onDecision((d) => decisions.push(d));
    // Target 10 per instance, 5 spare needed: one instance at concurrency ≤ 5 is served directly.
    await kube.apply(
      testFunction(ns.name, 'warm', { concurrency: { target: 10 }, scale: { ...FAST, targetBurstCapacity: 5 } }),
    );
    history = new ReplicaHistory(kube, ns.name, firstRevision('warm'));
    await history.start();
    client = await ServiceClient.start(kube, ns.name, 'warm');
    await eventually(async () => history!.current === 0 && client!.mode() === 'proxy', {
      what: 'the revision at zero, its Service on the activators',
      timeoutMs: 90_000,
    });
    const cold = await client.get('/');
    assert.deepEqual(cold, { status: 200, mode: 'proxy' }, 'at zero the Service answers through the activator');

    const steady = new ServiceLoad(client, () => '/sleep?ms=20', 2);
    loads.push(steady);
    await eventually(async () => steady.count('serve') >= 200, {
      what: 'requests taken by the instance straight from the Service (serve mode)',
      timeoutMs: 90_000,
    });
    const activatorPort = runtime.activator.port;
    await eventually(
      async () => {
        const eps = client!.endpoints();
        return eps.length > 0 && eps.every((e) => e.mode === 'serve' && e.port !== activatorPort);
      },
      { what: 'the Service holding the instance, not the activator (serve mode)' },
    );
    // The activator sees none of these requests: only the instance's meter can keep the revision up.
    const seen = decisions.length;
    await eventually(async () => decisions.length >= seen + 10, { what: 'ten more autoscaler decisions' });
    const serving = decisions.slice(seen).filter((d) => d.key === `${ns.name}/${firstRevision('warm')}`);
    assert.ok(
      serving.every((d) => d.desired >= 1),
      `the direct requests are counted (no scale to zero under load): ${serving.map((d) => d.desired).join(',')}`,
    );
    assert.ok(
      serving.some((d) => d.stable > 0.2),
      `the metered concurrency reaches the autoscaler: stable ${serving.map((d) => d.stable.toFixed(2)).join(',')}`,
    );
    // ... and the requests themselves reach /metrics (the dashboard's request charts add them up).
    const servedSoFar = steady.count('serve');
    const direct = () =>
      metricValue(runtime!.registry, 'trellis_autoscaler_direct_requests_total', { function: 'warm' });
    await eventually(async () => (await direct()) >= servedSoFar, {
      what: `trellis_autoscaler_direct_requests_total ≥ the ${servedSoFar} requests served directly so far`,
    });

    // A burst (concurrency ≈ 12 > 1 × 10 − 5): the activators come back into the path.
    const burst = new ServiceLoad(client, () => '/sleep?ms=50', 10);
    loads.push(burst);
    const proxiedBefore = steady.count('proxy') + burst.count('proxy');
    await eventually(async () => steady.count('proxy') + burst.count('proxy') > proxiedBefore + 20, {
      what: 'requests through the activators again under the burst',
      timeoutMs: 60_000,
    });
    const outcomes: ServiceOutcome[] = [...(await burst.stop()), ...(await steady.stop())];
    loads = [];

    // Idle: back to the activators first, then to zero; the Service still answers.
    await eventually(async () => history!.current === 0, { what: 'back at zero', timeoutMs: 90_000 });
    assert.equal(client.mode(), 'proxy', 'at zero the Service points at the activators');
    const after = await client.get('/');
    assert.deepEqual(after, { status: 200, mode: 'proxy' }, 'and answers through them');

    const lost = outcomes.filter((o) => o.status !== 200);
    assert.deepEqual(lost.slice(0, 5), [], `${lost.length} of ${outcomes.length} requests lost across the switches`);
    const events = (await kube.list('v1', 'Event', { namespace: ns.name, fieldSelector: 'involvedObject.name=warm' }))
      .items as (KubeObject & { reason?: string; message?: string })[];
    // One Event per distinct message: after the burst a second ServeMode may name 2 ready instances.
    const serve = events.filter((e) => e.reason === 'ServeMode').map((e) => e.message ?? '');
    assert.ok(
      serve.some((m) => /points at the instances of warm-00001: spare capacity: \d+ ready × target 10/.test(m)),
      `a ServeMode Event naming the rule's inputs: ${JSON.stringify(serve)}`,
    );
    assert.ok(
      events.some((e) => e.reason === 'ProxyMode'),
      'switching back is an Event too',
    );
  });
});
