import assert from 'node:assert/strict';
import { testCluster } from '../../support/cluster.js';
import type { AuditEvent } from '../../../controlplane/index.js';
import { eventually, useNamespace } from '../../support/namespace.js';
import { registerControllers } from '../../../controllers/index.js';
import { registerAppConfigController } from '../../../controllers/appconfig/index.js';
import { registerComponentController } from '../../../controllers/component/index.js';
import { LABEL_APP_NAME } from '../../../apis/labels.js';
import { FIELD_MANAGER } from '../../../controllers/field-managers.js';
import type { ApplicationConfiguration } from '../../../controllers/types.js';
import { KubeClient, type KubeObject } from '../../../kube/index.js';
import { silentLogger } from '../../../lib/log.js';
import { Manager } from '../../../runtime/index.js';

const OAM = 'core.oam.dev/v1alpha2';
const APPS = 24;
const AUDIT_WRITES = new Set(['create', 'update', 'patch', 'delete']);

describe('controllers: a full re-sync of unchanged applications, and an edit at steady state', () => {
  const ns = useNamespace();
  const managers: { m: Manager; kube: KubeClient }[] = [];
  ns.beforeDelete.push(async () => {
    for (const { m, kube } of managers.splice(0)) {
      await m.stop();
      kube.close();
    }
  });
  async function start() {
    const kube = await KubeClient.connect({
      kubeconfig: testCluster().controllerKubeconfig,
      fieldManager: FIELD_MANAGER,
    });
    const m = new Manager({ kube, logger: silentLogger, concurrency: 4 });
    registerControllers(m, { namespace: ns.name, version: 'test' });
    managers.push({ m, kube });
    await m.start();
    return m;
  }
  async function stop(m: Manager) {
    const i = managers.findIndex((x) => x.m === m);
    const [{ kube }] = managers.splice(i, 1);
    await m.stop();
    kube!.close();
  }
  const count = async (m: Manager, name: string, labels: Record<string, string> = {}) =>
    (await m.metrics.registry.getSingleMetric(name)?.get())?.values
      .filter((v) =>
        Object.entries(labels).every(([k, x]) =>
          k === 'method' ? new RegExp(x).test(String(v.labels[k])) : v.labels[k] === x,
        ),
      )
      .reduce((s, v) => s + v.value, 0) ?? 0;
  const idle = async (m: Manager, apps: number) =>
    (await count(m, 'controller_runtime_reconcile_total', { controller: 'applicationconfiguration' })) >= apps &&
    (await count(m, 'controller_runtime_reconcile_total', { controller: 'component' })) >= apps &&
    (await count(m, 'controller_runtime_active_workers')) === 0 &&
    (await count(m, 'workqueue_depth')) === 0;

  async function createApps() {
    const { kube } = testCluster();
    for (let i = 0; i < APPS; i++) {
      await kube.apply({
        apiVersion: OAM,
        kind: 'Component',
        metadata: { name: `web-${i}`, namespace: ns.name },
        spec: { workload: { type: 'webservice', properties: { image: 'nginx:1.27' } } },
      });
      await kube.apply({
        apiVersion: OAM,
        kind: 'ApplicationConfiguration',
        metadata: { name: `app-${i}`, namespace: ns.name },
        spec: {
          components: [
            {
              componentName: `web-${i}`,
              traits: [
                { trait: { name: 'scaler', properties: { replicas: 1 } } },
                { trait: { name: 'expose', properties: { ports: [{ port: 8080 }] } } },
                { trait: { name: 'ingress', properties: { host: `app-${i}.example.com` } } },
              ],
            },
          ],
        },
      });
    }
    const first = await start();
    const settled = async () =>
      (await kube.list<ApplicationConfiguration>(OAM, 'ApplicationConfiguration', { namespace: ns.name })).items.every(
        (a) =>
          a.status?.observedGeneration === a.metadata.generation &&
          a.status?.conditions?.every((c) => c.status === 'True') &&
          a.status.conditions.length === 2 &&
          a.status.fingerprint,
      );
    await eventually(settled, { what: 'all Synced and Ready, with a fingerprint', timeoutMs: 180_000 });
    await eventually(() => idle(first, APPS), { what: 'the first controller idle' });
    assert.ok((await count(first, 'rest_client_requests_total', { method: 'PATCH|POST' })) > 0, 'the first run wrote');
    assert.ok((await count(first, 'trellis_cue_evaluations_total')) > 0, 'the first run evaluated CUE');
    return first;
  }

  it('renders nothing and writes nothing: every object, status and revision is already as rendered', async () => {
    // A restarted controller lists everything and reconciles every object once more.
    await stop(await createApps());
    const second = await start();
    await eventually(() => idle(second, APPS), { what: 'every AppConfig and Component reconciled again' });
    assert.equal(
      await count(second, 'rest_client_requests_total', { method: '^(PATCH|POST|PUT|DELETE)$' }),
      0,
      'no write request at all',
    );
    assert.equal(await count(second, 'trellis_cue_evaluations_total'), 0, 'no CUE evaluation');
    assert.equal(
      await count(second, 'trellis_appconfig_renders_total', { result: 'rendered' }),
      0,
      'no AppConfig rendered',
    );
    assert.ok(
      (await count(second, 'trellis_appconfig_renders_total', { result: 'skipped' })) >= APPS,
      'every AppConfig skipped',
    );
    assert.equal(
      await count(second, 'controller_runtime_reconcile_total', {
        controller: 'applicationconfiguration',
        result: 'error',
      }),
      0,
    );
  });

  it('still repairs what changed while it was down: a hand-edited Deployment and a deleted Ingress, and skips the unchanged ones', async () => {
    const { kube, controlPlane } = testCluster();
    await stop(await createApps());
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-0', namespace: ns.name };
    await kube.patch(
      deployment,
      { spec: { template: { spec: { containers: [{ name: 'web-0', image: 'nginx:0.1-hand-edited' }] } } } },
      'strategic',
    );
    const ingress = (
      await kube.list<KubeObject>('networking.k8s.io/v1', 'Ingress', {
        namespace: ns.name,
        labelSelector: 'app.oam.dev/name=app-1',
      })
    ).items[0]!;
    await kube.delete({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      name: ingress.metadata.name!,
      namespace: ns.name,
    });

    // Another controller's status update, as an ingress controller reports the address it serves on
    // (or kube-controller-manager a Deployment's rollout): nothing to repair, but app-2's fingerprint
    // no longer names its children as they are, so the restart renders it and records them.
    const reported = (
      await kube.list<KubeObject>('networking.k8s.io/v1', 'Ingress', {
        namespace: ns.name,
        labelSelector: 'app.oam.dev/name=app-2',
      })
    ).items[0]!;
    await kube.patch(
      { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: reported.metadata.name!, namespace: ns.name },
      { status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } } },
      'merge',
      'status',
    );
    const { next: restartedAt } = await controlPlane.auditEventsFrom(0);

    const third = await start();
    const image = async () =>
      (await kube.get<KubeObject & { spec: { template: { spec: { containers: { image: string }[] } } } }>(deployment))
        .spec.template.spec.containers[0]!.image;
    await eventually(async () => (await image()) === 'nginx:1.27', { what: 'the hand-edited image put back' });
    await eventually(
      () =>
        kube.getOrNull({
          apiVersion: 'networking.k8s.io/v1',
          kind: 'Ingress',
          name: ingress.metadata.name!,
          namespace: ns.name,
        }),
      { what: 'the deleted Ingress applied again' },
    );
    await eventually(() => idle(third, APPS), { what: 'every AppConfig reconciled again' });
    assert.ok(
      (await count(third, 'trellis_appconfig_renders_total', { result: 'rendered', reason: 'children' })) >= 3,
      'the three changed applications rendered, each because a child was written since its last pass',
    );
    assert.ok(
      (await count(third, 'trellis_appconfig_renders_total', { result: 'skipped' })) >= APPS - 3,
      'the unchanged ones skipped',
    );
    const statusWritten = new Set(
      (await controlPlane.auditEventsFrom(restartedAt)).events
        .filter(
          (e) =>
            e.objectRef?.namespace === ns.name &&
            e.objectRef.resource === 'applicationconfigurations' &&
            e.objectRef.subresource === 'status' &&
            AUDIT_WRITES.has(e.verb),
        )
        .map((e) => e.objectRef!.name),
    );
    assert.deepEqual([...statusWritten].sort(), ['app-0', 'app-1', 'app-2'], 'no other AppConfig status written');
  });
  it('an edit, the first after the create too, is one render, one ConfigMap write and one status write: the watch event of its own write renders nothing', async () => {
    const { kube, controlPlane } = testCluster();
    const app = (greeting: string) => ({
      apiVersion: OAM,
      kind: 'ApplicationConfiguration',
      metadata: { name: 'greeter', namespace: ns.name },
      spec: { components: [{ componentName: 'greeting', parameterValues: [{ name: 'greeting', value: greeting }] }] },
    });
    // A workload no other controller writes (a Deployment's status is kube-controller-manager's: see below).
    await kube.apply({
      apiVersion: OAM,
      kind: 'Component',
      metadata: { name: 'greeting', namespace: ns.name },
      spec: {
        workload: { apiVersion: 'v1', kind: 'ConfigMap', data: { greeting: 'hello' } },
        parameters: [{ name: 'greeting', fieldPaths: ['data.greeting'] }],
      },
    });
    await kube.apply(app('hello'));
    const m = await start();
    const read = () =>
      kube.get<ApplicationConfiguration>({
        apiVersion: OAM,
        kind: 'ApplicationConfiguration',
        name: 'greeter',
        namespace: ns.name,
      });
    const converged = async (generation: number, greeting: string) => {
      const a = await read();
      const cm = await kube.getOrNull<KubeObject & { data?: Record<string, string> }>({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        name: 'greeting',
        namespace: ns.name,
      });
      return (
        a.status?.observedGeneration === generation &&
        a.status.conditions?.every((c) => c.status === 'True') &&
        !!a.status.fingerprint &&
        cm?.data?.greeting === greeting
      );
    };
    await eventually(() => converged(1, 'hello'), { what: 'the first version applied' });
    await eventually(() => idle(m, 1), { what: 'the controller idle' });
    // The controller's writes in this namespace since `from`, from the API server's audit log (it never rotates).
    const writesSince = async (from: number) =>
      (await controlPlane.auditEvents())
        .slice(from)
        .filter((e) => e.objectRef?.namespace === ns.name && AUDIT_WRITES.has(e.verb));
    const of = (events: AuditEvent[], resource: string, subresource?: string) =>
      events.filter((e) => e.objectRef?.resource === resource && e.objectRef.subresource === subresource);
    /** Edits, then waits until the ConfigMap's watch event was handled: dropped as the controller's own write. */
    const edit = async (greeting: string): Promise<void> => {
      const dropped = await count(m, 'trellis_appconfig_own_write_events_total');
      const generation = (await kube.apply(app(greeting))).metadata.generation!;
      await eventually(() => converged(generation, greeting), { what: `the edit to ${greeting} applied` });
      // The ConfigMap's watch event (the controller's own write, vouched for) arrives and is dropped —
      // also when the API server sends it before the write's answer (held until the answer, own-writes.ts).
      await eventually(async () => (await count(m, 'trellis_appconfig_own_write_events_total')) > dropped, {
        what: 'the watch event of its own write, dropped',
      });
      await eventually(() => idle(m, 1), { what: 'the controller idle again' });
    };
    const applied = async () =>
      (
        await kube.list<KubeObject & { reason?: string; note?: string; series?: { count: number } }>(
          'events.k8s.io/v1',
          'Event',
          { namespace: ns.name },
        )
      ).items.filter((e) => e.reason === 'Applied' && e.note === 'updated ConfigMap/greeting');
    // Each edit, the first after the create too (created by server-side apply: no field ownership to hand over).
    for (const greeting of ['bonjour', 'hola']) {
      const from = (await controlPlane.auditEvents()).length;
      const rendered = await count(m, 'trellis_appconfig_renders_total', { result: 'rendered' });
      const reconciles = await count(m, 'controller_runtime_reconcile_total', {
        controller: 'applicationconfiguration',
      });
      await edit(greeting);
      assert.equal((await count(m, 'trellis_appconfig_renders_total', { result: 'rendered' })) - rendered, 1);
      assert.equal(
        (await count(m, 'controller_runtime_reconcile_total', { controller: 'applicationconfiguration' })) - reconciles,
        1,
        `${greeting}: one reconcile — its own write's event wakes none`,
      );
      // The Event arrives (an Event, then its series), written once the status write was answered.
      await eventually(async () => of(await writesSince(from), 'events').length > 0, { what: 'the Applied Event' });
      const writes = await writesSince(from);
      assert.equal(of(writes, 'configmaps').length, 1, `${greeting}: the ConfigMap written once`);
      const [status, ...more] = of(writes, 'applicationconfigurations', 'status');
      assert.equal(more.length, 0, `${greeting}: status written once (observedGeneration, fingerprint)`);
      const [event] = of(writes, 'events');
      assert.ok(
        event!.requestReceivedTimestamp! > status!.stageTimestamp!,
        `${greeting}: the Event was sent after the status write was answered (` +
          `${event!.requestReceivedTimestamp} > ${status!.stageTimestamp})`,
      );
    }
    await eventually(async () => (await applied()).map((e) => e.series?.count).join() === '2', {
      what: 'one Applied Event, its series counting both edits',
    });
  });

  it("an edited Deployment's rollout by kube-controller-manager (revision annotation, status) waits in the status coalescer: the edit renders once", async () => {
    const { kube } = testCluster();
    const controllerKube = await KubeClient.connect({
      kubeconfig: testCluster().controllerKubeconfig,
      fieldManager: FIELD_MANAGER,
    });
    const m = new Manager({ kube: controllerKube, logger: silentLogger, concurrency: 2 });
    registerComponentController(m, { namespace: ns.name });
    // What a child's status writes wake is held 10 min: within this test, it never reconciles.
    registerAppConfigController(m, { namespace: ns.name, statusCoalesceMs: 600_000, version: 'test' });
    managers.push({ m, kube: controllerKube });
    await kube.apply({
      apiVersion: OAM,
      kind: 'Component',
      metadata: { name: 'web', namespace: ns.name },
      spec: {
        workload: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          spec: {
            replicas: 0,
            selector: { matchLabels: { app: 'web' } },
            template: {
              metadata: { labels: { app: 'web' } },
              spec: { containers: [{ name: 'web', image: 'nginx:1' }] },
            },
          },
        },
        parameters: [{ name: 'image', fieldPaths: ['spec.template.spec.containers[0].image'] }],
      },
    });
    const app = (image: string) => ({
      apiVersion: OAM,
      kind: 'ApplicationConfiguration',
      metadata: { name: 'shop', namespace: ns.name },
      spec: { components: [{ componentName: 'web', parameterValues: [{ name: 'image', value: image }] }] },
    });
    await kube.apply(app('nginx:1.27'));
    await m.start();
    // The controller's own cache of Deployments: what it has seen of kube-controller-manager's writes.
    const deployments = m.informer<
      KubeObject & {
        spec: { template: { spec: { containers: { image: string }[] } } };
        status?: { observedGeneration?: number };
      }
    >({ apiVersion: 'apps/v1', kind: 'Deployment', labelSelector: LABEL_APP_NAME, namespace: ns.name });
    const rolledOut = (image: string, revision: string) => {
      const d = deployments.get('web', ns.name);
      return (
        d?.spec.template.spec.containers[0]?.image === image &&
        d.metadata.annotations?.['deployment.kubernetes.io/revision'] === revision &&
        d.status?.observedGeneration === d.metadata.generation
      );
    };
    await eventually(async () => rolledOut('nginx:1.27', '1'), { what: 'the Deployment created and rolled out' });
    await eventually(() => idle(m, 1), { what: 'the controller idle' });
    const rendered = await count(m, 'trellis_appconfig_renders_total', { result: 'rendered' });
    const own = await count(m, 'trellis_appconfig_own_write_events_total');
    await kube.apply(app('nginx:1.28'));
    await eventually(async () => rolledOut('nginx:1.28', '2'), {
      what: "kube-controller-manager's new ReplicaSet reported (revision 2), as the controller sees it",
    });
    await eventually(() => idle(m, 1), { what: 'the controller idle again' });
    assert.equal(
      (await count(m, 'trellis_appconfig_renders_total', { result: 'rendered' })) - rendered,
      1,
      "the edit's pass alone: kube-controller-manager's writes wait to be one coalesced pass",
    );
    assert.equal(
      (await count(m, 'trellis_appconfig_own_write_events_total')) - own,
      1,
      "the Deployment's watch event of the controller's own write was recognised (also when it came before the write's answer)",
    );
  });
});
