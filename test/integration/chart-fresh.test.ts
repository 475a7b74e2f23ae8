import assert from 'node:assert/strict';
import path from 'node:path';
import { ControlPlane, packageRoot } from '../../controlplane/index.js';
import { KubeClient, type KubeObject } from '../../kube/index.js';
import { testCluster } from '../support/cluster.js';
import { helm } from '../support/chart.js';
import { eventually } from '../support/namespace.js';

const chartDir = () => path.join(packageRoot(), 'charts', 'trellis');

/**
 * `helm install --wait` as the README says to run it on a new cluster: no CRDs yet. The shared test
 * cluster cannot show this (the fixture installed the CRDs), so this suite starts a control plane of
 * its own, with one simulated node so the release's pods become Ready. `--wait` matters on a first
 * install: Helm then waits for the CRDs to be served before it creates the definitions (hooks).
 */
describe('chart: install, upgrade and uninstall on a cluster without the CRDs', function () {
  this.timeout(600_000);
  let cp: ControlPlane;
  let kube: KubeClient;
  const release = 'trellis';
  const namespace = 'trellis-system';
  const run = (...args: string[]) =>
    helm(testCluster().helm, [...args, '--kubeconfig', cp.kubeconfigPath, '--namespace', namespace]);
  const definition = (kind: string, name: string) =>
    kube.getOrNull<KubeObject>({ apiVersion: 'core.oam.dev/v1alpha2', kind, name });
  const webhookCa = async () =>
    (
      await kube.get<KubeObject & { data: Record<string, string> }>({
        apiVersion: 'v1',
        kind: 'Secret',
        namespace,
        name: 'trellis-webhook-tls',
      })
    ).data['ca.crt'];

  before(async () => {
    cp = new ControlPlane({ binaries: testCluster().binaries, nodePath: process.execPath, nodes: 1 });
    await cp.start();
    kube = await KubeClient.connect({ kubeconfig: cp.kubeconfigPath, fieldManager: 'trellis-test' });
  });
  after(async () => {
    kube?.close();
    await cp?.stop();
  });

  it('installs the CRDs and the built-in definitions in one `helm install`', async () => {
    await run('install', release, chartDir(), '--create-namespace', '--wait', '--timeout', '480s');
    const scaler = await definition('TraitDefinition', 'scaler');
    assert.ok(scaler, 'TraitDefinition/scaler exists after the install');
    assert.ok(
      await definition('WorkloadDefinition', 'webservice'),
      'WorkloadDefinition/webservice exists after the install',
    );
    assert.equal(scaler.metadata.labels?.['trellis.dev/built-in'], 'true');
  });

  it('upgrades the definitions in place (never deleted and re-created) and keeps the webhook CA', async () => {
    const before = await definition('TraitDefinition', 'scaler');
    const ca = await webhookCa();
    await run('upgrade', release, chartDir(), '--wait', '--timeout', '480s');
    await run('upgrade', release, chartDir(), '--wait', '--timeout', '480s');
    const after = await definition('TraitDefinition', 'scaler');
    assert.equal(after?.metadata.uid, before?.metadata.uid, 'the same object, patched');
    const { stdout } = await run('get', 'manifest', release);
    assert.match(stdout, /kind: TraitDefinition\n/, 'the definitions became release objects');
    assert.equal(await webhookCa(), ca, 'the CA the webhook configurations trust is unchanged');
    const config = await kube.get<KubeObject & { webhooks: { clientConfig: { caBundle: string } }[] }>({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      name: 'trellis-validating',
    });
    assert.ok(config.webhooks.every((w) => w.clientConfig.caBundle === ca));
  });

  it('uninstall keeps the CRDs and definitions (crds.keep), and removes the rest', async () => {
    // Not --wait: the ClusterRole aggregation controller may re-create the aggregated role (chart.test.ts).
    await run('uninstall', release);
    assert.ok(
      await kube.getOrNull({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        name: 'applicationconfigurations.core.oam.dev',
      }),
    );
    assert.ok(await definition('TraitDefinition', 'scaler'));
    assert.equal(
      await kube.getOrNull({
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        name: 'trellis-validating',
      }),
      undefined,
    );
    await eventually(
      async () =>
        (await kube.getOrNull({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name: 'trellis-controller' })) ===
        undefined,
      { what: 'the controller Deployment to be removed' },
    );
  });
});
