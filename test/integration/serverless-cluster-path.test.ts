import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { Informer } from '../../kube/index.js';
import type { KubeObject } from '../../kube/types.js';
import { LABEL_SERVICE_NAME, LOCAL_RUNTIME_KEY, LOCAL_RUNTIME_VALUE } from '../../serverless/labels.js';
import { LocalRunner } from '../../serverless/runner/runner.js';
import { readInstanceMeter } from '../../serverless/meter/instance-meter.js';
import { QUEUE_METER_PORT, QUEUE_PROXY_PORT } from '../../serverless/meter/queue-proxy.js';
import { startTrellis, TRELLIS_BIN } from '../support/cli.js';
import { testCluster } from '../support/cluster.js';
import { eventually, useNamespace } from '../support/namespace.js';
import { inPodNetwork, NetnsPodNetwork } from '../support/netns.js';
import {
  firstRevision,
  HANDLER_DIR,
  Load,
  ReplicaHistory,
  request,
  startFunctionController,
  testFunction,
  type LoadOutcome,
} from '../support/serverless.js';
import { ServiceClient, ServiceLoad, type ServiceOutcome } from '../support/service-client.js';

/** The node whose pods run in network namespaces (its own, so no other test's runner takes them). */
const NODE = 'trellis-netns-runner-test';
const FAST = { stableWindowSeconds: 1, panicWindowSeconds: 0.5, idleGraceSeconds: 0.3 };
/** The queue-proxy's image (Trellis'); this node's runner runs it as the image would: `node bin/trellis.js`. */
const TRELLIS_IMAGE = 'registry.invalid/trellis/trellis:test';
/** Who writes the slices the activator reads here: Kubernetes' own EndpointSlice controller. */
const K8S_SLICE_MANAGER = 'endpointslice-controller.k8s.io';

interface SliceEndpoint {
  addresses: string[];
  conditions?: { ready?: boolean; terminating?: boolean };
  nodeName?: string;
  targetRef?: { kind?: string; uid?: string };
}
type Slice = KubeObject & { endpoints?: SliceEndpoint[] | null; ports?: { port?: number }[] | null };

/**
 * Issue 13 item 4: the cluster's data path, end to end, with nothing standing in for Kubernetes'
 * part. A Function on the **kubernetes backend** (its revision's Service has a selector) runs pods
 * that the scheduler binds to a node whose "kubelet" is the local runner with a pod network of
 * network namespaces (test/support/netns.ts): each pod's handler runs in a namespace of its own on a
 * veth address in 198.18.250.0/24 and reports it as `status.podIP`; **kube-controller-manager's
 * EndpointSlice controller** writes the Service's slices from those pods; the activator — the real
 * `trellis serverless` process, in the host's namespace — reads them and proxies to the pods through
 * the veths. No request ever goes to an address outside this machine (never a kwok pod IP).
 */
describe('serverless: the cluster data path (EndpointSlice controller, pods in network namespaces)', function () {
  const ns = useNamespace('netpath');
  /** Stops what the running test started, before its namespace goes (even when the test failed). */
  let cleanup: (() => Promise<void>) | undefined;
  ns.beforeDelete.push(async () => {
    const stop = cleanup;
    cleanup = undefined;
    await stop?.();
  });
  let skipped: string | undefined;
  let network: NetnsPodNetwork | undefined;
  before(async function () {
    skipped = await NetnsPodNetwork.unavailable();
    if (skipped) {
      // Recorded, not silent: CI runs as root (.ci/run refuses to run otherwise), so this never skips there.
      console.log(`    skipped: ${skipped}`);
      this.skip();
    }
    await NetnsPodNetwork.sweep();
  });
  after(async () => {
    // Whatever happened above: no namespace or veth of this run survives it.
    await network?.close();
  });

  it('proxies to the addresses the EndpointSlice controller publishes, across scaling and a pod going NotReady — no request lost', async function () {
    const { kube, activatorKubeconfig } = testCluster();
    network = new NetnsPodNetwork();
    const runner = new LocalRunner({ kube, nodeName: NODE, network });
    let load: Load | undefined;
    // What is running, for the cleanup (whichever step the test got to).
    const running: {
      activator?: ChildProcess;
      slices?: Informer<Slice>;
      history?: ReplicaHistory;
      functions?: { stop(): Promise<void> };
    } = {};
    cleanup = async () => {
      try {
        await load?.stop();
        await stopProcess(running.activator);
        await kube.delete({
          apiVersion: 'serverless.trellis.dev/v1alpha1',
          kind: 'Function',
          namespace: ns.name,
          name: 'hello',
        });
        // The runner (this node's kubelet) finishes the pods' deletion and takes their networks down.
        await eventually(async () => (await podsOnNode(ns.name)).length === 0, {
          what: 'the pods gone',
          timeoutMs: 60_000,
        });
      } finally {
        await running.slices?.stop();
        await running.history?.stop();
        await running.functions?.stop();
        await runner.stop();
        await network?.close();
        await kube.delete({ apiVersion: 'v1', kind: 'Node', name: NODE });
      }
    };

    await runner.start();
    running.functions = await startFunctionController(ns.name, { backend: 'kubernetes' });
    const started = await startActivator(activatorKubeconfig, ns.name);
    running.activator = started.child;
    const url = `${started.match[1]}/${ns.name}/hello`;

    // Every slice of the revision's Service, as written: who wrote it and every address it ever held.
    const revision = firstRevision('hello');
    const published = new Set<string>();
    const pods = new Set<string>();
    const managers = new Set<string>();
    const slices = new Informer<Slice>(kube, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      namespace: ns.name,
      labelSelector: `${LABEL_SERVICE_NAME}=${revision}`,
      resyncMs: 0,
    });
    const record = (s: Slice) => {
      managers.add(s.metadata.labels?.['endpointslice.kubernetes.io/managed-by'] ?? '(none)');
      for (const ep of s.endpoints ?? []) {
        for (const a of ep.addresses) published.add(a);
        if (ep.targetRef?.kind === 'Pod' && ep.targetRef.uid) pods.add(ep.targetRef.uid);
      }
    };
    slices.on({ add: record, update: record });
    running.slices = slices;
    await slices.start();
    const endpoints = () => slices.list().flatMap((s) => s.endpoints ?? []);
    const readyAddresses = () =>
      endpoints()
        .filter((e) => e.conditions?.ready && !e.conditions.terminating)
        .map((e) => e.addresses[0]!)
        .sort();

    await kube.apply(
      testFunction(ns.name, 'hello', {
        // The kubernetes backend runs images; this node's runner runs the handler beside it.
        image: 'registry.invalid/trellis/hello:v1',
        readinessPath: '/ready',
        concurrency: { target: 10 },
        scale: FAST,
        // What a user does to place a Function on a node pool: select the node, tolerate its taint.
        template: {
          spec: {
            nodeSelector: { 'kubernetes.io/hostname': NODE },
            tolerations: [
              { key: LOCAL_RUNTIME_KEY, operator: 'Equal', value: LOCAL_RUNTIME_VALUE, effect: 'NoSchedule' },
            ],
          },
        },
      }),
    );
    const history = new ReplicaHistory(kube, ns.name, revision);
    running.history = history;
    await history.start();
    const service = await eventually(
      () => kube.getOrNull({ apiVersion: 'v1', kind: 'Service', namespace: ns.name, name: revision }),
      {
        what: "the revision's Service",
      },
    );
    assert.ok((service.spec as { selector?: object }).selector, 'the kubernetes backend: a Service with a selector');

    // Knative's initial scale: the first pod becomes ready (in the slice), then the revision idles to zero.
    await eventually(async () => readyAddresses().length === 1, {
      what: 'the first pod ready in the slice',
      timeoutMs: 90_000,
    });
    await eventually(
      async () => history.current === 0 && endpoints().length === 0 && network!.addresses().length === 0,
      {
        what: 'the revision at zero, its slice empty, its pod network gone',
        timeoutMs: 90_000,
      },
    );

    // From zero: the activator holds the request, scales up, learns the new pod from the slice, proxies.
    const cold = await request(`${url}/`);
    assert.equal(cold.status, 200, cold.body);
    const coldAddress = (JSON.parse(cold.body) as { host: string }).host;
    assert.ok(inPodNetwork(coldAddress), `answered from the pod's own address: ${coldAddress}`);

    load = new Load(() => `${url}/sleep?ms=20`, 4).start();
    const recent = (n: number) => load!.outcomes.slice(-n).map((o) => o.address);
    const bothAnswer = async () => {
      const ready = readyAddresses();
      const seen = new Set(recent(100));
      return ready.length === 2 && ready.every((a) => seen.has(a)) && ready;
    };

    // Up to two instances: the second pod's address reaches the activator through its slice.
    await kube.patch(
      { apiVersion: 'serverless.trellis.dev/v1alpha1', kind: 'Function', namespace: ns.name, name: 'hello' },
      { spec: { scale: { min: 2 } } },
      'merge',
    );
    const [a, b] = await eventually(bothAnswer, {
      what: 'two ready pods in the slice, both answering',
      timeoutMs: 90_000,
    });

    // Pod a's readiness probe fails: the runner reports it NotReady, the controller marks its endpoint
    // not ready, the activator stops sending it requests — it still answers those it has.
    await request(`http://${a}:8080/ready?ok=false`, { method: 'POST' });
    await eventually(async () => endpoints().some((e) => e.addresses[0] === a && e.conditions?.ready === false), {
      what: `pod ${a} not ready in the slice`,
    });
    await eventually(async () => load!.outcomes.length > 200 && recent(100).every((addr) => addr === b), {
      what: `every request answered by ${b} alone`,
    });
    await request(`http://${a}:8080/ready?ok=true`, { method: 'POST' });
    await eventually(bothAnswer, { what: `pod ${a} back in the slice, answering again` });

    // Down to one (the load needs one at target 10): the activator drains a pod, the ReplicaSet deletes
    // it, its endpoint leaves the slice and its network goes.
    await kube.patch(
      { apiVersion: 'serverless.trellis.dev/v1alpha1', kind: 'Function', namespace: ns.name, name: 'hello' },
      { spec: { scale: { min: 0 } } },
      'merge',
    );
    await eventually(
      async () => endpoints().length === 1 && network!.addresses().length === 1 && history.current === 1,
      {
        what: 'one pod left in the slice and in the pod network',
        timeoutMs: 60_000,
      },
    );
    const [left] = readyAddresses();
    const before = load.outcomes.length;
    await eventually(async () => load!.outcomes.length > before + 100 && recent(100).every((addr) => addr === left), {
      what: `every request answered by ${left}`,
    });

    const outcomes: LoadOutcome[] = await load.stop();
    load = undefined;
    await eventually(
      async () => history.current === 0 && endpoints().length === 0 && network!.addresses().length === 0,
      {
        what: 'idle: back at zero, the slice empty, no pod network left',
        timeoutMs: 60_000,
      },
    );

    const lost = outcomes.filter((o) => o.status !== 200);
    assert.deepEqual(lost.slice(0, 5), [], `${lost.length} of ${outcomes.length} requests lost`);
    assert.ok(outcomes.length > 300, `requests under load: ${outcomes.length}`);
    assert.deepEqual([...managers], [K8S_SLICE_MANAGER], "every slice written by Kubernetes' EndpointSlice controller");
    const answered = new Set([coldAddress, ...outcomes.map((o) => o.address!)]);
    assert.ok(pods.size >= 3, `pods published (the first, the cold start's, the second): ${pods.size}`);
    assert.deepEqual(
      [...published].filter((addr) => !inPodNetwork(addr)),
      [],
      'nothing but pod-network addresses ever published (never a kwok pod IP)',
    );
    assert.deepEqual(
      [...answered].filter((addr) => !published.has(addr)),
      [],
      'every answer came from an address the controller published',
    );
    assert.deepEqual(history.values.slice(0, 2), [1, 0], 'initial scale, then zero');
    assert.ok(history.values.includes(2), `scaled to two: ${history.values.join(' → ')}`);
  });

  it("serves a warm Function's Service straight through its pods' queue-proxy, metered, and goes back to the activators under a burst and before zero — no request lost", async function () {
    this.timeout(360_000);
    const { kube, activatorKubeconfig } = testCluster();
    network = new NetnsPodNetwork();
    // Each pod's two containers run as processes in the pod's namespace, sharing its 127.0.0.1.
    const runner = new LocalRunner({
      kube,
      nodeName: NODE,
      network,
      entrypoints: { [TRELLIS_IMAGE]: ['node', TRELLIS_BIN] },
    });
    const running: {
      activator?: ChildProcess;
      client?: ServiceClient;
      loads: ServiceLoad[];
      history?: ReplicaHistory;
      functions?: { stop(): Promise<void> };
    } = { loads: [] };
    const fnRef = { apiVersion: 'serverless.trellis.dev/v1alpha1', kind: 'Function', namespace: ns.name, name: 'warm' };
    cleanup = async () => {
      try {
        for (const l of running.loads) await l.stop();
        await stopProcess(running.activator);
        await kube.delete(fnRef);
        await eventually(async () => (await podsOnNode(ns.name)).length === 0, {
          what: 'the pods gone',
          timeoutMs: 60_000,
        });
      } finally {
        await running.client?.stop();
        await running.history?.stop();
        await running.functions?.stop();
        await runner.stop();
        await network?.close();
        await kube.delete({ apiVersion: 'v1', kind: 'Node', name: NODE });
      }
    };

    await runner.start();
    // As the chart runs it: the Function controller puts the Trellis image's queue-proxy in every pod.
    running.functions = await startFunctionController(ns.name, {
      backend: 'kubernetes',
      queueProxyImage: TRELLIS_IMAGE,
    });
    running.activator = (await startActivator(activatorKubeconfig, ns.name)).child;
    await kube.apply(
      testFunction(ns.name, 'warm', {
        image: 'registry.invalid/trellis/hello:v1',
        readinessPath: '/ready',
        timeoutSeconds: 3,
        // Target 10 per instance, 5 spare needed: one pod at concurrency ≤ 5 is served directly.
        concurrency: { target: 10 },
        scale: { ...FAST, targetBurstCapacity: 5 },
        template: {
          spec: {
            nodeSelector: { 'kubernetes.io/hostname': NODE },
            tolerations: [
              { key: LOCAL_RUNTIME_KEY, operator: 'Equal', value: LOCAL_RUNTIME_VALUE, effect: 'NoSchedule' },
            ],
          },
        },
      }),
    );
    const revision = firstRevision('warm');
    const history = new ReplicaHistory(kube, ns.name, revision);
    running.history = history;
    await history.start();
    const client = await ServiceClient.start(kube, ns.name, 'warm');
    running.client = client;
    const pod = (await eventually(async () => (await podsOnNode(ns.name))[0], {
      what: 'the first pod',
    })) as KubeObject & {
      spec: { containers: { name: string }[] };
    };
    assert.deepEqual(
      pod.spec.containers.map((c) => c.name),
      ['function', 'queue-proxy'],
    );
    await eventually(
      async () => history.current === 0 && client.mode() === 'proxy' && network!.addresses().length === 0,
      {
        what: "initial scale, then zero: the Function's Service on the activators, no pod network left",
        timeoutMs: 120_000,
      },
    );
    const cold = await client.get('/');
    assert.deepEqual(cold, { status: 200, mode: 'proxy' }, 'at zero the Service answers through an activator');

    // Warm with spare capacity: the Service points at the pods' queue-proxy port, not at the activator.
    const steady = new ServiceLoad(client, () => '/sleep?ms=20', 2);
    running.loads.push(steady);
    await eventually(async () => steady.count('serve') >= 100, {
      what: 'requests taken by the pods straight from the Service (serve mode)',
      timeoutMs: 90_000,
    });
    const valuesAtServe = history.values.length;
    const served = client.endpoints();
    assert.ok(served.length > 0, 'serve-mode endpoints');
    for (const ep of served) {
      assert.equal(ep.mode, 'serve');
      assert.equal(ep.port, QUEUE_PROXY_PORT, "the pod's queue-proxy port, not the function's");
      assert.ok(inPodNetwork(ep.host), `a pod-network address: ${ep.host}`);
    }
    // Through the sidecar: unmarked, reaching the function on the pod's own 127.0.0.1.
    const direct = await request(`http://${served[0]!.host}:${QUEUE_PROXY_PORT}/`);
    assert.equal(direct.status, 200, direct.body);
    assert.deepEqual(
      pick(JSON.parse(direct.body) as Record<string, unknown>, ['via', 'host']),
      { via: 'direct', host: '127.0.0.1' },
      'the queue-proxy forwards to the function on the pod-local loopback',
    );
    // Counted by the sidecar's meter, read where the autoscaler reads it (the slice's trellis-meter port).
    const readings = await Promise.all(served.map((ep) => readInstanceMeter(ep.host, QUEUE_METER_PORT)));
    assert.ok(
      readings.every((r) => r !== undefined) && readings.reduce((n, r) => n + r!.arrivals, 0) > 0,
      `every serving pod's meter counts direct requests: ${JSON.stringify(readings)}`,
    );
    // The activator sees none of them: only the meters keep the revision up while it is served directly.
    const before = steady.count('serve');
    await eventually(async () => steady.count('serve') >= before + 200, { what: '200 more requests served directly' });
    assert.ok(
      history.values.slice(valuesAtServe - 1).every((n) => n >= 1),
      `no scale to zero while served directly: ${history.values.join(' → ')}`,
    );
    // The Function's spec.timeoutSeconds is enforced on the direct path, by the queue-proxy.
    const slow = await request(`http://${served[0]!.host}:${QUEUE_PROXY_PORT}/sleep?ms=20000`);
    assert.equal(slow.status, 504, slow.body);
    assert.equal(slow.headers['x-trellis-error'], 'TRL_QUEUE_PROXY_TIMEOUT');

    // A burst (concurrency ≈ 12 > 1 × 10 − 5): the activators come back into the path.
    const burst = new ServiceLoad(client, () => '/sleep?ms=50', 10);
    running.loads.push(burst);
    const proxied = () => steady.count('proxy') + burst.count('proxy');
    const proxiedBefore = proxied();
    await eventually(async () => proxied() > proxiedBefore + 20, {
      what: 'requests through the activators again under the burst',
      timeoutMs: 60_000,
    });
    const outcomes: ServiceOutcome[] = [...(await burst.stop()), ...(await steady.stop())];
    running.loads = [];

    // Idle: back to the activators first, then to zero; the Service still answers.
    await eventually(async () => history.current === 0 && network!.addresses().length === 0, {
      what: 'back at zero, no pod network left',
      timeoutMs: 90_000,
    });
    assert.equal(client.mode(), 'proxy', 'at zero the Service points at the activators');
    const atZero = await client.get('/');
    assert.deepEqual(atZero, { status: 200, mode: 'proxy' }, `and answers through them: ${JSON.stringify(atZero)}`);

    const lost = outcomes.filter((o) => o.status !== 200);
    assert.deepEqual(lost.slice(0, 5), [], `${lost.length} of ${outcomes.length} requests lost across the switches`);
    assert.ok(outcomes.filter((o) => o.mode === 'serve').length >= 300, 'served directly under load');
    const events = (await kube.list('v1', 'Event', { namespace: ns.name, fieldSelector: 'involvedObject.name=warm' }))
      .items as (KubeObject & { reason?: string; message?: string })[];
    assert.ok(
      events.some((e) => e.reason === 'ServeMode' && e.message?.includes(revision)),
      `a ServeMode Event naming ${revision}`,
    );
    assert.ok(
      events.some((e) => e.reason === 'ProxyMode'),
      'switching back is an Event too',
    );
  });

  it('keeps a pod Pending, saying why, when the pod network has no address for it', async () => {
    const { kube } = testCluster();
    const full = new NetnsPodNetwork({ slots: 0 });
    const runner = new LocalRunner({ kube, nodeName: NODE, network: full });
    const ref = { apiVersion: 'v1', kind: 'Pod', namespace: ns.name, name: 'no-room' };
    cleanup = async () => {
      try {
        await kube.delete(ref);
        await eventually(async () => (await podsOnNode(ns.name)).length === 0, { what: 'the pod gone' });
      } finally {
        await runner.stop();
        await full.close();
        await kube.delete({ apiVersion: 'v1', kind: 'Node', name: NODE });
      }
    };
    await runner.start();
    await kube.apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: ref.name, namespace: ns.name },
      spec: {
        nodeName: NODE,
        containers: [
          {
            name: 'function',
            image: 'registry.invalid/x:v1',
            command: ['node', 'handler.js'],
            workingDir: HANDLER_DIR,
          },
        ],
      },
    });
    type Status = {
      phase?: string;
      podIP?: string;
      containerStatuses?: { state?: { waiting?: { reason?: string; message?: string } } }[];
    };
    const status = await eventually(
      async () => {
        const st = (await kube.get(ref)).status as Status | undefined;
        return st?.containerStatuses?.[0]?.state?.waiting?.reason === 'NetworkNotReady' && st;
      },
      { what: 'the pod waiting for its network' },
    );
    assert.equal(status.phase, 'Pending');
    assert.equal(status.podIP, undefined, 'no address reported');
    assert.match(
      status.containerStatuses![0]!.state!.waiting!.message ?? '',
      new RegExp(`the pod network failed: no free /30 left in 198\\.18\\.250\\.0/24 for ${ns.name}/no-room`),
    );
  });
});

/** The real activator process (`trellis serverless`, kubernetes backend), as the chart runs it. */
function startActivator(kubeconfig: string, namespace: string): ReturnType<typeof startTrellis> {
  return startTrellis(
    [
      'serverless',
      '--no-function-controller',
      '--kubeconfig',
      kubeconfig,
      '-n',
      namespace,
      '--backend',
      'kubernetes',
      '--listen',
      '127.0.0.1:0',
      '--health-addr',
      '0',
      '--tick',
      '0.1',
    ],
    /activator listening on (http:\/\/\S+) /,
    { timeoutMs: 60_000 },
  );
}

/** The pods bound to {@link NODE} in a namespace. */
async function podsOnNode(namespace: string): Promise<KubeObject[]> {
  return (await testCluster().kube.list('v1', 'Pod', { namespace, fieldSelector: `spec.nodeName=${NODE}` })).items;
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

function pick(obj: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, obj[k]]));
}
