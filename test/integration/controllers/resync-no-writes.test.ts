import assert from 'node:assert/strict';
import { testCluster } from '../../support/cluster.js';
import { eventually, useNamespace } from '../../support/namespace.js';
import { registerControllers } from '../../../controllers/index.js';
import { FIELD_MANAGER } from '../../../controllers/field-managers.js';
import type { ApplicationConfiguration } from '../../../controllers/types.js';
import { KubeClient } from '../../../kube/index.js';
import { silentLogger } from '../../../lib/log.js';
import { Manager } from '../../../runtime/index.js';

const OAM = 'core.oam.dev/v1alpha2';

describe('controllers: a full re-sync of unchanged applications', () => {
  const ns = useNamespace();
  const managers: { m: Manager; kube: KubeClient }[] = [];
  ns.beforeDelete.push(async () => {
    for (const { m, kube } of managers.splice(0)) {
      await m.stop();
      kube.close();
    }
  });
  async function start() {
    const kube = await KubeClient.connect({ kubeconfig: testCluster().controllerKubeconfig, fieldManager: FIELD_MANAGER });
    const m = new Manager({ kube, logger: silentLogger, concurrency: 4 });
    registerControllers(m, { namespace: ns.name });
    managers.push({ m, kube });
    await m.start();
    return m;
  }
  const count = async (m: Manager, name: string, labels: Record<string, string>) => (await m.metrics.registry.getSingleMetric(name)?.get())?.values.filter((v) => Object.entries(labels).every(([k, x]) => (k === 'method' ? new RegExp(x).test(String(v.labels[k])) : v.labels[k] === x))).reduce((s, v) => s + v.value, 0) ?? 0;

  it('issues no writes: every object, status and revision is already as rendered', async () => {
    const { kube } = testCluster();
    for (let i = 0; i < 5; i++) {
      await kube.apply({ apiVersion: OAM, kind: 'Component', metadata: { name: `web-${i}`, namespace: ns.name }, spec: { workload: { type: 'webservice', properties: { image: 'nginx:1.27' } } } });
      await kube.apply({
        apiVersion: OAM,
        kind: 'ApplicationConfiguration',
        metadata: { name: `app-${i}`, namespace: ns.name },
        spec: { components: [{ componentName: `web-${i}`, traits: [{ trait: { name: 'scaler', properties: { replicas: 1 } } }, { trait: { name: 'expose', properties: { ports: [{ port: 8080 }] } } }, { trait: { name: 'ingress', properties: { host: `app-${i}.example.com` } } }] }] },
      });
    }
    const first = await start();
    const settled = async () => (await kube.list<ApplicationConfiguration>(OAM, 'ApplicationConfiguration', { namespace: ns.name })).items.every((a) => a.status?.observedGeneration === a.metadata.generation && a.status?.conditions?.every((c) => c.status === 'True') && a.status.conditions.length === 2);
    await eventually(settled, { what: 'all Synced and Ready', timeoutMs: 90_000 });
    assert.ok((await count(first, 'rest_client_requests_total', { method: 'PATCH|POST' })) > 0, 'the first run wrote');

    // A restarted controller lists everything and reconciles every object once more.
    await first.stop();
    const second = await start();
    await eventually(async () => (await count(second, 'controller_runtime_reconcile_total', { controller: 'applicationconfiguration' })) >= 5 && (await count(second, 'controller_runtime_reconcile_total', { controller: 'component' })) >= 5 && second.metrics.registry && (await count(second, 'controller_runtime_active_workers', {})) === 0, { what: 'every AppConfig and Component reconciled again' });
    assert.equal(await count(second, 'rest_client_requests_total', { method: '^(PATCH|POST|PUT|DELETE)$' }), 0, 'no write request at all');
    assert.equal(await count(second, 'controller_runtime_reconcile_total', { controller: 'applicationconfiguration', result: 'error' }), 0);
  });
});
