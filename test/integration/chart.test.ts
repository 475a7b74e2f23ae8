import assert from 'node:assert/strict';
import path from 'node:path';
import { testCluster } from '../support/cluster.js';
import { helm, renderChart } from '../support/chart.js';
import { eventually } from '../support/namespace.js';
import { packageRoot } from '../../controlplane/index.js';
import type { KubeObject } from '../../kube/index.js';

const chartDir = () => path.join(packageRoot(), 'charts', 'trellis');
type Rule = { apiGroups?: string[]; resources?: string[]; verbs?: string[] };

describe('chart: charts/trellis', () => {
  it('passes `helm lint`', async () => {
    const { stdout } = await helm(testCluster().helm, ['lint', chartDir()]);
    assert.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('grants no wildcard verbs, resources or API groups', async () => {
    const objects = await renderChart(testCluster().helm, { 'serviceMonitor.enabled': true });
    const rules = objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role').flatMap((o) => ((o.rules as Rule[] | undefined) ?? []).map((r) => ({ role: o.metadata.name, ...r })));
    assert.ok(rules.length > 10, 'the chart defines RBAC rules');
    const wild = rules.filter((r) => [...(r.verbs ?? []), ...(r.resources ?? []), ...(r.apiGroups ?? [])].includes('*'));
    assert.deepEqual(wild, []);
  });

  it('marks CRDs to be kept on uninstall unless crds.keep=false, and leaves them out with crds.install=false', async () => {
    const h = testCluster().helm;
    const kept = (await renderChart(h)).filter((o) => o.kind === 'CustomResourceDefinition');
    assert.ok(kept.length >= 8);
    assert.ok(kept.every((c) => c.metadata.annotations?.['helm.sh/resource-policy'] === 'keep'));
    const notKept = (await renderChart(h, { 'crds.keep': false })).filter((o) => o.kind === 'CustomResourceDefinition');
    assert.ok(notKept.every((c) => !c.metadata.annotations?.['helm.sh/resource-policy']));
    assert.deepEqual((await renderChart(h, { 'crds.install': false })).filter((o) => o.kind === 'CustomResourceDefinition'), []);
  });

  it('lets the controller impersonate ServiceAccounts only, and passes gitops.defaultServiceAccount to it', async () => {
    const h = testCluster().helm;
    const rules = (await renderChart(h)).filter((o) => o.kind === 'ClusterRole').flatMap((o) => (o.rules as Rule[] | undefined) ?? []);
    const impersonating = rules.filter((r) => r.verbs?.includes('impersonate'));
    assert.deepEqual(impersonating, [{ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] }]);
    const args = async (values: Record<string, string>) => ((await renderChart(h, values)).find((o) => o.kind === 'Deployment' && /controller/.test(o.metadata.name!)) as unknown as { spec: { template: { spec: { containers: { args: string[] }[] } } } }).spec.template.spec.containers[0]!.args;
    assert.ok(!(await args({})).some((a) => a.startsWith('--gitops-default-service-account')));
    assert.ok((await args({ 'gitops.defaultServiceAccount': 'gitops-deployer' })).includes('--gitops-default-service-account=gitops-deployer'));
  });

  it('runs its workloads as non-root with a read-only root filesystem and probes', async () => {
    const deployments = (await renderChart(testCluster().helm)).filter((o) => o.kind === 'Deployment') as (KubeObject & { spec: { template: { spec: { securityContext: Record<string, unknown>; containers: Record<string, unknown>[] } } } })[];
    assert.ok(deployments.length >= 1);
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      assert.equal(pod.securityContext.runAsNonRoot, true, `${d.metadata.name} runs as non-root`);
      for (const c of pod.containers) {
        assert.equal((c.securityContext as { readOnlyRootFilesystem?: boolean }).readOnlyRootFilesystem, true, `${d.metadata.name}/${c.name} has a read-only root filesystem`);
        assert.ok(c.livenessProbe && c.readinessProbe, `${d.metadata.name}/${c.name} has probes`);
      }
    }
  });

  it('installs into a cluster with `helm install`, its pods become Ready, and `helm uninstall` removes it', async function () {
    this.timeout(600_000);
    const { helm: h, kubeconfig, kube } = testCluster();
    const release = 'trellis-chart-test';
    const namespace = 'trellis-chart-test';
    // The fixture already installed the CRDs (owned by it), so this release leaves them out.
    await helm(h, ['install', release, chartDir(), '--kubeconfig', kubeconfig, '--namespace', namespace, '--create-namespace', '--set', 'crds.install=false', '--wait', '--timeout', '480s']);
    try {
      const deployments = await kube.list<KubeObject & { status?: { readyReplicas?: number }; spec: { replicas: number } }>('apps/v1', 'Deployment', { namespace });
      assert.ok(deployments.items.length >= 1);
      for (const d of deployments.items) assert.equal(d.status?.readyReplicas, d.spec.replicas, `${d.metadata.name} is ready`);
      const { stdout } = await helm(h, ['status', release, '--kubeconfig', kubeconfig, '--namespace', namespace]);
      assert.match(stdout, /STATUS: deployed/);
    } finally {
      await helm(h, ['uninstall', release, '--kubeconfig', kubeconfig, '--namespace', namespace, '--wait']);
      await kube.delete({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
    }
    await eventually(async () => (await kube.getOrNull({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: `${release}-controller` })) === undefined, { what: 'the release ClusterRole to be removed' });
  });
});
