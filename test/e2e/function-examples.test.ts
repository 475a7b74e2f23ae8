import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { packageRoot } from '../../controlplane/index.js';
import type { KubeObject } from '../../kube/index.js';
import { testCluster } from '../support/cluster.js';
import { CONFORMANCE_DIR } from '../support/conformance.js';
import { useControllers } from '../support/controllers.js';
import { eventually, useNamespace } from '../support/namespace.js';
import { firstRevision, ReplicaHistory, request, startServerless } from '../support/serverless.js';

const objectsOf = (file: string, namespace: string): KubeObject[] =>
  parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => !!o)
    .map((o) => ({ ...o, metadata: { ...o.metadata, namespace } }));

type App = KubeObject & { status?: { conditions?: { type: string; status: string }[] } };

describe('e2e: function examples through the ApplicationConfiguration controller and the serverless runtime', () => {
  let runtime: Awaited<ReturnType<typeof startServerless>> | undefined;
  let history: ReplicaHistory | undefined;
  // Registered before useNamespace: the runtime stops before its namespace is deleted.
  afterEach(async () => {
    await history?.stop();
    await runtime?.close();
    runtime = history = undefined;
  });
  const ns = useNamespace('fne2e');
  useControllers(ns);

  it('examples/function-hello renders, runs its Node handler, answers "hello", and scales to zero', async () => {
    const { kube } = testCluster();
    runtime = await startServerless(ns.name, {
      runner: { kube, nodeName: 'trellis-local-runner-test', root: packageRoot() },
    });
    for (const obj of objectsOf(path.join(packageRoot(), 'examples', 'function-hello', 'function.yaml'), ns.name))
      await kube.apply(obj);
    await eventually(
      async () =>
        kube.getOrNull({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns.name, name: firstRevision('hello') }),
      { what: 'the Deployment the Function controller rendered', timeoutMs: 60_000 },
    );
    history = new ReplicaHistory(kube, ns.name, firstRevision('hello'));
    await history.start();
    const fn = await kube.get({
      apiVersion: 'serverless.trellis.dev/v1alpha1',
      kind: 'Function',
      namespace: ns.name,
      name: 'hello',
    });
    assert.equal(
      fn.metadata.ownerReferences?.[0]?.kind,
      'ApplicationConfiguration',
      'the AppConfig controller applied the Function',
    );
    const answer = await request(`${runtime.url}/`, { headers: { host: `hello.${ns.name}.fn.localhost` } });
    assert.equal(answer.status, 200);
    assert.equal(answer.body, 'hello\n');
    await eventually(async () => history!.current === 0, {
      what: "scaled to zero (the example's 10 s windows)",
      timeoutMs: 90_000,
    });
    const app = await eventually(
      async () => {
        const a = await kube.get<App>({
          apiVersion: 'core.oam.dev/v1alpha2',
          kind: 'ApplicationConfiguration',
          namespace: ns.name,
          name: 'hello',
        });
        return a.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && a;
      },
      { what: 'the AppConfig Ready at zero (a function at zero can still take requests)', timeoutMs: 30_000 },
    );
    assert.ok(app);
    const cold = await request(`${runtime.url}/${ns.name}/hello/`);
    assert.equal(cold.body, 'hello\n', 'answered from zero');
    // Deleting the AppConfig takes the Function, its Deployment and its processes with it.
    await kube.delete({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ApplicationConfiguration',
      namespace: ns.name,
      name: 'hello',
    });
    await eventually(
      async () =>
        (await kube.list('v1', 'Pod', { namespace: ns.name })).items.length === 0 &&
        runtime!.runner!.instances().length === 0,
      { what: 'the instances gone with the AppConfig', timeoutMs: 60_000 },
    );
  });

  it('the OpenFaaS Component of the conformance seed, unchanged, becomes a running function', async () => {
    const { kube } = testCluster();
    runtime = await startServerless(ns.name, { backend: 'kubernetes', probe: async () => false });
    const [seed] = objectsOf(path.join(CONFORMANCE_DIR, 'seed-openfaas-function-component.yaml'), ns.name);
    await kube.apply(seed!);
    await kube.apply({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ApplicationConfiguration',
      metadata: { name: 'nodeinfo', namespace: ns.name },
      spec: { components: [{ componentName: 'web-function' }] },
    });
    const d = await eventually(
      async () =>
        kube
          .getOrNull<KubeObject & { status?: { readyReplicas?: number } }>({
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            namespace: ns.name,
            name: firstRevision('web-function'),
          })
          .then((x) => x?.status?.readyReplicas === 1 && x),
      { what: 'its Deployment with a Ready (kwok) pod', timeoutMs: 60_000 },
    );
    assert.equal(d.metadata.labels?.['app.oam.dev/name'], 'nodeinfo', 'the OAM labels reach what the function runs as');
    assert.equal(d.metadata.ownerReferences?.[0]?.apiVersion, 'openfaas.com/v1');
    await kube.delete({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ApplicationConfiguration',
      namespace: ns.name,
      name: 'nodeinfo',
    });
    await eventually(
      async () =>
        (await kube.getOrNull({
          apiVersion: 'openfaas.com/v1',
          kind: 'Function',
          namespace: ns.name,
          name: 'web-function',
        })) === undefined,
      { what: 'the OpenFaaS Function gone with the AppConfig', timeoutMs: 60_000 },
    );
  });
});
