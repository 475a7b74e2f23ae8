import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { testCluster } from '../support/cluster.js';
import { CONFORMANCE_DIR } from '../support/conformance.js';
import { eventually, useNamespace } from '../support/namespace.js';
import { request, startServerless, testFunction } from '../support/serverless.js';
import { isInvalid, type KubeApiError, type KubeObject } from '../../kube/index.js';

type Fn = KubeObject & {
  status?: {
    url?: string;
    path?: string;
    readyReplicas?: number;
    desiredReplicas?: number;
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
};
type Deployment = KubeObject & {
  spec: {
    replicas?: number;
    template: {
      spec: { containers: { command?: string[]; env?: { name: string; value: string }[]; image: string }[] };
    };
  };
  status?: { readyReplicas?: number };
};
const ready = (o: Fn | undefined) => o?.status?.conditions?.find((c) => c.type === 'Ready');

describe('serverless: the Function controller and the Kubernetes backend against the real API server', function () {
  let runtime: Awaited<ReturnType<typeof startServerless>> | undefined;
  // Registered before useNamespace: the runtime stops before its namespace is deleted.
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
  });
  const ns = useNamespace('fnc');

  it('reports where the function is served and that it can take requests at zero; refuses an invalid one with the reason', async () => {
    const { kube } = testCluster();
    runtime = await startServerless(ns.name, { domain: 'fn.test' });
    await kube.apply(
      testFunction(ns.name, 'hello', {
        scale: { stableWindowSeconds: 1, panicWindowSeconds: 0.5, idleGraceSeconds: 0.2 },
      }),
    );
    const fnRef = {
      apiVersion: 'serverless.trellis.dev/v1alpha1',
      kind: 'Function',
      namespace: ns.name,
      name: 'hello',
    };
    // Ready as soon as it can take requests — Serving, or already ScaledToZero: with these short
    // windows the first instance may be gone before a poll sees it.
    const serving = await eventually(
      async () => {
        const fn = await kube.get<Fn>(fnRef);
        return ready(fn)?.status === 'True' && ['Serving', 'ScaledToZero'].includes(ready(fn)?.reason ?? '') && fn;
      },
      { what: 'Ready=True (Serving or ScaledToZero)', timeoutMs: 60_000 },
    );
    assert.equal(serving.status?.url, 'http://hello.' + ns.name + '.fn.test');
    assert.equal(serving.status?.path, `/${ns.name}/hello/`);
    const zero = await eventually(
      async () => {
        const fn = await kube.get<Fn>(fnRef);
        return ready(fn)?.reason === 'ScaledToZero' && fn;
      },
      { what: 'Ready=True ScaledToZero', timeoutMs: 60_000 },
    );
    assert.equal(ready(zero)?.status, 'True');
    assert.equal(zero.status?.desiredReplicas, 0);
    const answer = await request(`${runtime.url}/`, { headers: { host: `hello.${ns.name}.fn.test:8080` } });
    assert.equal(answer.status, 200, 'served by Host at zero');

    // What the CRD cannot check reaches the status and an Event.
    await kube.apply(testFunction(ns.name, 'bad', { handler: '  ' }));
    const bad = await eventually(
      async () => {
        const fn = await kube.get<Fn>({ ...fnRef, name: 'bad' });
        return ready(fn)?.reason === 'Invalid' && fn;
      },
      { what: 'Ready=False Invalid' },
    );
    assert.match(
      ready(bad)!.message,
      /\[TRL_FUNCTION_INVALID\] Function\/.+\/bad: spec.handler: the handler command is empty/,
    );
    await eventually(
      async () =>
        (await kube.list('v1', 'Event', { namespace: ns.name, fieldSelector: 'involvedObject.name=bad' })).items.some(
          (e) => e.reason === 'Invalid',
        ),
      { what: 'an Invalid Warning event' },
    );
    assert.deepEqual(
      (
        await kube.list('apps/v1', 'Deployment', {
          namespace: ns.name,
          labelSelector: 'serverless.trellis.dev/function=bad',
        })
      ).items,
      [],
      'nothing rendered for it',
    );
    assert.deepEqual(
      (
        await kube.list('serverless.trellis.dev/v1alpha1', 'FunctionRevision', {
          namespace: ns.name,
          labelSelector: 'serverless.trellis.dev/function=bad',
        })
      ).items,
      [],
      'no revision made of it',
    );
  });

  it('is refused by the API server when its bounds contradict each other (CRD validation)', async () => {
    const { kube } = testCluster();
    await assert.rejects(
      kube.apply(testFunction(ns.name, 'bounds', { scale: { min: 3, max: 2 } })),
      (err: KubeApiError) => isInvalid(err) && /scale.min must not exceed scale.max/.test(err.message),
    );
    await assert.rejects(
      kube.apply({ ...testFunction(ns.name, 'empty'), spec: {} }),
      (err: KubeApiError) => isInvalid(err) && /needs an image, a handler command, or both/.test(err.message),
    );
  });

  it("production path: scales a Deployment on ordinary nodes through its scale subresource and learns endpoints from Kubernetes' EndpointSlice controller", async () => {
    const { kube } = testCluster();
    const probed: string[] = [];
    // kwok's pods have no process behind their IPs: probe nothing off loopback, record what would be probed.
    runtime = await startServerless(ns.name, {
      backend: 'kubernetes',
      probe: async (t) => (probed.push(`${t.host}:${t.port}`), false),
    });
    await kube.apply(
      testFunction(ns.name, 'prod', {
        image: 'example.com/prod:1',
        queue: { timeoutSeconds: 2 },
        scale: { stableWindowSeconds: 1, panicWindowSeconds: 0.5, idleGraceSeconds: 0.2 },
      }),
    );
    const depRef = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns.name, name: 'prod-00001' };
    await eventually(async () => (await kube.getOrNull<Deployment>(depRef))?.status?.readyReplicas === 1, {
      what: 'a kwok pod Ready',
      timeoutMs: 60_000,
    });
    await eventually(async () => (await kube.get<Deployment>(depRef)).spec.replicas === 0, {
      what: 'scaled to zero',
      timeoutMs: 60_000,
    });
    await eventually(async () => runtime!.activator.traffic(`${ns.name}/prod-00001`)!.instances.size === 0, {
      what: 'the activator forgot the endpoint',
    });
    probed.length = 0;
    const held = await request(`${runtime.url}/${ns.name}/prod/`);
    assert.equal(held.status, 504, 'no process answers a kwok pod, so the held request times out');
    assert.equal(held.headers['x-trellis-error'], 'TRL_ACTIVATOR_TIMEOUT');
    const d = await kube.get<Deployment>(depRef);
    assert.equal(d.spec.replicas, 1, 'the held request scaled the Deployment to 1 through deployments/scale');
    const scaleWrites = (await testCluster().controlPlane.auditEvents()).filter(
      (e) =>
        e.objectRef?.resource === 'deployments' &&
        e.objectRef.subresource === 'scale' &&
        e.objectRef.namespace === ns.name &&
        e.verb === 'patch',
    );
    assert.ok(
      scaleWrites.length >= 2,
      `written through deployments/scale, as the chart's ServiceAccount (to zero, then to one): ${scaleWrites.length}`,
    );
    await eventually(async () => probed.some((p) => p.startsWith('10.244.')), {
      what: 'the kwok pod IP (from the EndpointSlice controller) being probed',
      timeoutMs: 30_000,
    });
  });

  it('runs the OpenFaaS Function of the conformance seed as written (openfaas.com/v1)', async () => {
    const { kube } = testCluster();
    runtime = await startServerless(ns.name, { backend: 'kubernetes', probe: async () => false });
    const seed = parse(readFileSync(path.join(CONFORMANCE_DIR, 'seed-openfaas-function-component.yaml'), 'utf8')) as {
      spec: { workload: KubeObject };
    };
    // What rendering the seed Component applies: its workload, named after the component.
    await kube.apply({ ...seed.spec.workload, metadata: { name: 'web-function', namespace: ns.name } });
    const d = await eventually(
      async () =>
        kube.getOrNull<Deployment>({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          namespace: ns.name,
          name: 'web-function-00001',
        }),
      { what: "its first revision's Deployment", timeoutMs: 30_000 },
    );
    const [c] = d.spec.template.spec.containers;
    assert.equal(c!.image, 'function/nodeinfo');
    assert.deepEqual(c!.command, ['node', 'main.js']);
    assert.deepEqual(
      c!.env?.map((e) => `${e.name}=${e.value}`),
      ['http_proxy=http://proxy1.corp.com:3128', 'no_proxy=http://gateway/', 'PORT=8080'],
    );
    assert.equal(d.metadata.ownerReferences?.[0]?.kind, 'Function');
    assert.equal(d.metadata.ownerReferences?.[0]?.apiVersion, 'openfaas.com/v1');
    const fn = await eventually(
      async () => {
        const o = await kube.get<Fn>({
          apiVersion: 'openfaas.com/v1',
          kind: 'Function',
          namespace: ns.name,
          name: 'web-function',
        });
        return ready(o)?.reason === 'Serving' && o;
      },
      { what: 'the OpenFaaS Function Ready (kwok pod)', timeoutMs: 60_000 },
    );
    assert.equal(fn.status?.readyReplicas, 1, 'OpenFaaS keeps one instance unless com.openfaas.scale.zero is set');
  });
});
