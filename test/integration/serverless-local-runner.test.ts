import assert from 'node:assert/strict';
import { testCluster } from '../support/cluster.js';
import { eventually, useNamespace } from '../support/namespace.js';
import { firstRevision, request, TEST_RUNNER_NODE, testFunction } from '../support/serverless.js';
import type { KubeObject } from '../../kube/index.js';
import type { FunctionObject } from '../../serverless/function/config.js';
import { renderRevision } from '../../serverless/function/render.js';
import { newRevision } from '../../serverless/function/revision.js';
import { LABEL_SERVICE_NAME } from '../../serverless/labels.js';
import { LocalRunner } from '../../serverless/runner/runner.js';

/** What the Function controller renders for a Function's first revision on the local backend: a Deployment and a Service, both named `<fn>-00001`. */
const renderFunction = (fn: FunctionObject) =>
  renderRevision(fn, newRevision(fn, 1, { apiVersion: 'serverless.trellis.dev/v1alpha1', kind: 'Function' }), {
    backend: 'local',
  });

interface Endpoint {
  addresses: string[];
  conditions: { ready: boolean; terminating: boolean };
  targetRef: { name: string; uid: string };
}
type Slice = KubeObject & { endpoints: Endpoint[]; ports: { name: string; port: number }[] };
type Pod = KubeObject & {
  spec: { nodeName?: string };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { restartCount: number; containerID?: string; state: Record<string, { reason?: string }> }[];
  };
};

describe('serverless: LocalRunner (kubelet + endpoints for local functions) against the real API server', () => {
  const ns = useNamespace('runner');
  let runner: LocalRunner | undefined;
  afterEach(async () => {
    // Let the runner finish its pods (as a kubelet would) before it stops, so none is left Terminating.
    const { kube } = testCluster();
    for (const d of (await kube.list('apps/v1', 'Deployment', { namespace: ns.name })).items)
      await kube.delete({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns.name, name: d.metadata.name! });
    await eventually(async () => (await kube.list('v1', 'Pod', { namespace: ns.name })).items.length === 0, {
      what: "the test's pods gone",
      timeoutMs: 30_000,
    }).catch(() => undefined);
    await runner?.stop();
    runner = undefined;
  });

  async function deploy(name: string, replicas: number, spec = {}): Promise<void> {
    const { kube } = testCluster();
    const [deployment, service] = renderFunction(testFunction(ns.name, name, spec));
    await kube.apply(service!);
    await kube.apply({ ...deployment!, spec: { ...(deployment!.spec as object), replicas } });
  }

  const slices = async (service: string): Promise<Slice[]> =>
    (
      await testCluster().kube.list<Slice>('discovery.k8s.io/v1', 'EndpointSlice', {
        namespace: ns.name,
        labelSelector: `${LABEL_SERVICE_NAME}=${service}`,
      })
    ).items;
  const readyEndpoints = async (service: string) =>
    (await slices(service)).flatMap((s) =>
      s.endpoints
        .filter((e) => e.conditions.ready)
        .map((e) => {
          assert.equal(
            e.addresses[0],
            `${TEST_RUNNER_NODE}.localhost`,
            'published as a .localhost name (the API server refuses loopback IPs)',
          );
          return { url: `http://127.0.0.1:${s.ports[0]!.port}`, pod: e.targetRef.name };
        }),
    );

  it('runs each pod as a local process on its own port, reports it Ready and publishes one slice per instance', async () => {
    const { kube } = testCluster();
    runner = new LocalRunner({ kube, nodeName: TEST_RUNNER_NODE });
    await runner.start();
    await deploy('two', 2);
    const endpoints = await eventually(
      async () => {
        const eps = await readyEndpoints(firstRevision('two'));
        return eps.length === 2 && eps;
      },
      { what: 'two ready endpoints', timeoutMs: 60_000 },
    );
    assert.equal((await slices(firstRevision('two'))).length, 2, 'one EndpointSlice per instance');
    const answers = await Promise.all(endpoints.map((e) => request(`${e.url}/`)));
    const pids = answers.map((a) => (assert.equal(a.status, 200), (JSON.parse(a.body) as { pid: number }).pid));
    assert.equal(new Set(pids).size, 2, 'two processes');
    const pods = (await kube.list<Pod>('v1', 'Pod', { namespace: ns.name })).items;
    for (const pod of pods) {
      assert.equal(pod.spec.nodeName, TEST_RUNNER_NODE, 'scheduled onto the runner node, not a kwok node');
      assert.equal(pod.status?.phase, 'Running');
      assert.equal(pod.status?.podIP, '127.0.0.1');
      assert.equal(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
      assert.match(pod.status?.containerStatuses?.[0]?.containerID ?? '', /^local:\/\/\d+$/);
    }
    const node = await kube.get<KubeObject>({ apiVersion: 'v1', kind: 'Node', name: TEST_RUNNER_NODE });
    assert.equal(node.metadata.annotations?.['kwok.x-k8s.io/node'], undefined, 'kwok does not manage the runner node');
  });

  it('stops the process and removes its endpoint when its pod is deleted by a scale-down', async () => {
    const { kube } = testCluster();
    runner = new LocalRunner({ kube, nodeName: TEST_RUNNER_NODE });
    await runner.start();
    await deploy('shrink', 2);
    const before = await eventually(
      async () => {
        const eps = await readyEndpoints(firstRevision('shrink'));
        return eps.length === 2 && eps;
      },
      { what: 'two ready endpoints', timeoutMs: 60_000 },
    );
    await kube.patch(
      { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns.name, name: firstRevision('shrink') },
      { spec: { replicas: 1 } },
      'merge',
      'scale',
    );
    await eventually(
      async () =>
        (await slices(firstRevision('shrink'))).length === 1 &&
        (await kube.list('v1', 'Pod', { namespace: ns.name })).items.length === 1,
      { what: 'one slice and one pod left', timeoutMs: 60_000 },
    );
    const [left] = await readyEndpoints(firstRevision('shrink'));
    const gone = before.find((e) => e.url !== left!.url)!;
    await assert.rejects(request(`${gone.url}/`), /ECONNREFUSED/, 'the stopped instance no longer listens');
    assert.equal((await request(`${left!.url}/`)).status, 200);
  });

  it('restarts a handler that dies, on a new port, and counts the restart', async () => {
    const { kube } = testCluster();
    runner = new LocalRunner({ kube, nodeName: TEST_RUNNER_NODE });
    await runner.start();
    await deploy('crash', 1);
    const [first] = await eventually(
      async () => {
        const eps = await readyEndpoints(firstRevision('crash'));
        return eps.length === 1 && eps;
      },
      { what: 'a ready endpoint', timeoutMs: 60_000 },
    );
    const { pid } = JSON.parse((await request(`${first!.url}/`)).body) as { pid: number };
    process.kill(pid, 'SIGKILL');
    const [second] = await eventually(
      async () => {
        const eps = await readyEndpoints(firstRevision('crash'));
        return eps.length === 1 && eps[0]!.url !== first!.url && eps;
      },
      { what: 'the endpoint on a new port', timeoutMs: 60_000 },
    );
    assert.notEqual(JSON.parse((await request(`${second!.url}/`)).body).pid, pid);
    const [pod] = (await kube.list<Pod>('v1', 'Pod', { namespace: ns.name })).items;
    assert.equal(pod!.status?.containerStatuses?.[0]?.restartCount, 1);
  });

  it('reports a pod it cannot run (no handler command) as waiting with the reason, and publishes no endpoint', async () => {
    const { kube } = testCluster();
    runner = new LocalRunner({ kube, nodeName: TEST_RUNNER_NODE });
    await runner.start();
    const fn = testFunction(ns.name, 'imageonly', { image: 'example.com/fn:1' });
    delete fn.spec!.handler;
    const [deployment, service] = renderFunction(fn);
    await kube.apply(service!);
    await kube.apply(deployment!);
    const pod = await eventually(
      async () => {
        const [p] = (await kube.list<Pod>('v1', 'Pod', { namespace: ns.name })).items;
        return p?.status?.containerStatuses?.[0]?.state.waiting?.reason === 'NoHandlerCommand' && p;
      },
      { what: 'the pod waiting with NoHandlerCommand', timeoutMs: 60_000 },
    );
    assert.equal(pod.status?.phase, 'Pending');
    assert.deepEqual(await slices(firstRevision('imageonly')), []);
  });
});
