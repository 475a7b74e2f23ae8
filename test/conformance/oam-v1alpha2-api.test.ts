import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { testCluster, waitForEstablished } from '../support/cluster.js';
import { conformanceObjects, upgradeV1beta1Crd } from '../support/conformance.js';
import { useNamespace } from '../support/namespace.js';
import { describeRef, type KubeObject } from '../../kube/index.js';

const exec = promisify(execFile);

describe('conformance: oam-v1alpha2 objects against the CRDs', () => {
  const ns = useNamespace('conf');
  const clusterScoped: KubeObject[] = [];

  afterEach(async () => {
    const { kube } = testCluster();
    for (const obj of clusterScoped.splice(0).reverse())
      await kube.delete({ apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name! });
  });

  it('accepts every object of ../shared/conformance/oam-v1alpha2 unchanged (04/11b CRDs translated to v1)', async () => {
    const { kube } = testCluster();
    const docs = conformanceObjects();
    assert.ok(docs.length >= 25, `expected the full conformance set, found ${docs.length} objects`);
    const kinds = new Set<string>();
    for (const { file, object } of docs) {
      const obj = upgradeV1beta1Crd(object);
      const info = await kube.resource(obj.apiVersion, obj.kind);
      const target = info.namespaced ? { ...obj, metadata: { ...obj.metadata, namespace: ns.name } } : obj;
      if (!info.namespaced) clusterScoped.push(target);
      const applied = await kube.apply(target).catch((err: Error) => {
        throw new Error(`${file}: ${describeRef(target)} was rejected: ${err.message}`);
      });
      assert.equal(applied.metadata.name, obj.metadata.name);
      if (obj.kind === 'CustomResourceDefinition') await waitForEstablished(kube, obj.metadata.name!);
      kinds.add(obj.kind);
    }
    for (const kind of [
      'Component',
      'ApplicationConfiguration',
      'HealthScope',
      'WorkloadDefinition',
      'TraitDefinition',
      'ScopeDefinition',
    ])
      assert.ok(kinds.has(kind), `conformance set covers ${kind}`);

    // The typed shorthand (10) and the trait name/properties shorthand (11) are stored as written.
    const typed = await kube.get({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'Component',
      name: 'web-service-component',
      namespace: ns.name,
    });
    assert.equal((typed.spec as { workload: { type: string } }).workload.type, 'web-service');
  });

  it('`kubectl get appconfig,comp,workloaddefinition` prints useful columns', async () => {
    const { kube, kubeconfig } = testCluster();
    for (const { object } of conformanceObjects([
      '01-containerized-workload-component.yaml',
      '10-typed-component-shorthand.yaml',
      '10b-typed-component-definitions.yaml',
      '10c-typed-component-appconfig-healthscope.yaml',
    ])) {
      const info = await kube.resource(object.apiVersion, object.kind);
      const target = info.namespaced ? { ...object, metadata: { ...object.metadata, namespace: ns.name } } : object;
      if (!info.namespaced) clusterScoped.push(target);
      await kube.apply(target);
    }
    const { stdout } = await exec('kubectl', [
      '--kubeconfig',
      kubeconfig,
      'get',
      'appconfig,comp,workloaddefinition',
      '-n',
      ns.name,
    ]);
    const lines = stdout.split('\n');
    const header = (prefix: string) =>
      lines[lines.findIndex((l) => l.startsWith('NAME') && lines[lines.indexOf(l) + 1]?.startsWith(prefix))] ?? '';
    assert.match(header('applicationconfiguration'), /NAME\s+SYNCED\s+READY\s+REASON\s+AGE/);
    assert.match(header('component'), /NAME\s+WORKLOAD-KIND\s+TYPE\s+LATEST-REVISION\s+AGE/);
    assert.match(header('workloaddefinition'), /NAME\s+DEFINITION-NAME\s+AGE/);
    assert.match(stdout, /component\.core\.oam\.dev\/example-component\s+ContainerizedWorkload\s/);
    assert.match(stdout, /component\.core\.oam\.dev\/web-service-component\s+web-service\s/);
    assert.match(stdout, /workloaddefinition\.core\.oam\.dev\/web-service\s+containerizedworkloads\.core\.oam\.dev\s/);
  });
});
