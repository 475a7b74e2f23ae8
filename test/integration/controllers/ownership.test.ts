import assert from 'node:assert/strict';
import type { ApplicationConfiguration } from '../../../controllers/types.js';
import { Informer, KubeClient, type KubeObject } from '../../../kube/index.js';
import { testCluster } from '../../support/cluster.js';
import { useControllers } from '../../support/controllers.js';
import { kubectl } from '../../support/kubectl.js';
import { eventually, useNamespace } from '../../support/namespace.js';
import { trellis } from '../../support/cli.js';

const OAM = 'core.oam.dev/v1alpha2';
type Deployment = KubeObject & {
  spec: { replicas?: number; template: { spec: { containers: { name: string; image: string }[] } } };
};

describe('controllers: ownership — never touch what the AppConfig does not own', () => {
  const ns = useNamespace('own');
  const controllers = useControllers(ns);
  const kube = () => testCluster().kube;

  const deploymentWorkload = (name: string, image = 'nginx:1.27') => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image }] } },
    },
  });
  const component = (name: string, workload: object) => ({
    apiVersion: OAM,
    kind: 'Component',
    metadata: { name, namespace: ns.name },
    spec: { workload },
  });
  const appConfig = (name: string, components: object[], spec: object = {}) => ({
    apiVersion: OAM,
    kind: 'ApplicationConfiguration',
    metadata: { name, namespace: ns.name },
    spec: { ...spec, components },
  });
  const getApp = (name: string) =>
    kube().get<ApplicationConfiguration>({
      apiVersion: OAM,
      kind: 'ApplicationConfiguration',
      name,
      namespace: ns.name,
    });
  const deployment = (name: string) =>
    kube().getOrNull<Deployment>({ apiVersion: 'apps/v1', kind: 'Deployment', name, namespace: ns.name });
  const synced = (name: string, status: 'True' | 'False', reason?: string) =>
    eventually(
      async () => {
        const a = await getApp(name);
        const c = a.status?.conditions?.find((x) => x.type === 'Synced');
        // Synced carries upstream's reasons (ReconcileSuccess/ReconcileError); Trellis' own is status.syncReason.
        return (
          a.status?.observedGeneration === a.metadata.generation &&
          c?.status === status &&
          (!reason || a.status?.syncReason === reason) &&
          a
        );
      },
      { what: `${name} Synced=${status}${reason ? `/${reason}` : ''}`, timeoutMs: 60_000 },
    );
  const events = async (name: string) =>
    (await kube().list('events.k8s.io/v1', 'Event', { namespace: ns.name })).items
      .filter((e) => (e.regarding as { name: string }).name === name)
      .map((e) => `${e.type} ${e.reason}: ${e.note}`);
  /** Every version of the Deployments in the namespace, as a watch saw them. */
  const recordDeployments = async () => {
    const seen: Deployment[] = [];
    const informer = new Informer<Deployment>(kube(), {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: ns.name,
    });
    informer.on({ add: (d) => seen.push(d), update: (d) => seen.push(d) });
    await informer.start();
    ns.beforeDelete.push(() => informer.stop());
    return seen;
  };

  /** A re-sync: a metadata change wakes the AppConfig without a new generation; waits until a reconcile ran after it. */
  const resynced = async (app: string, label: string) => {
    const reconciles = async () =>
      (
        (await controllers.manager!.metrics.registry.getSingleMetric('controller_runtime_reconcile_total')?.get())
          ?.values ?? []
      )
        .filter((v) => v.labels.controller === 'applicationconfiguration')
        .reduce((n, v) => n + v.value, 0);
    const before = await reconciles();
    await kube().patch(
      { apiVersion: OAM, kind: 'ApplicationConfiguration', name: app, namespace: ns.name },
      { metadata: { labels: { poke: label } } },
    );
    await eventually(async () => (await reconciles()) > before, { what: 'a reconcile after the poke' });
  };

  it('refuses a Deployment made by hand, leaves it byte for byte as it was, says whose it is, and applies the rest', async () => {
    const made = await kubectl([
      'create',
      'deployment',
      'handmade',
      '--image=busybox:1',
      '--replicas=3',
      '-n',
      ns.name,
    ]);
    assert.equal(made.code, 0, made.stderr);
    // Once Kubernetes' own controllers are done with it (rolled out, pods Ready), nothing else writes it.
    const before = await eventually(
      async () => {
        const d = (await deployment('handmade')) as Deployment & {
          status?: { observedGeneration?: number; availableReplicas?: number; updatedReplicas?: number };
        };
        return (
          d?.status?.observedGeneration === d?.metadata.generation &&
          d?.status?.availableReplicas === 3 &&
          d.status.updatedReplicas === 3 &&
          d
        );
      },
      { what: 'the hand-made Deployment rolled out', timeoutMs: 60_000 },
    );
    await kube().apply(component('handmade', deploymentWorkload('handmade')));
    await kube().apply(component('web', deploymentWorkload('web')));
    await kube().apply(appConfig('a1', [{ componentName: 'handmade' }, { componentName: 'web' }]));

    const app = await synced('a1', 'False', 'OwnershipConflict');
    const message = app.status!.conditions!.find((c) => c.type === 'Synced')!.message!;
    assert.match(
      message,
      new RegExp(
        `^\\[TRL_OWNERSHIP_CONFLICT\\] Deployment/${ns.name}/handmade: exists and is not controlled by ApplicationConfiguration/${ns.name}/a1 \\(UID "${app.metadata.uid}"\\): it was made by hand \\(field manager "kubectl-create"\\); .*trellis\\.dev/adopt=ApplicationConfiguration/a1 \\(1 object applied\\)$`,
      ),
    );
    assert.deepEqual(
      app.status?.ownership?.refused?.map((r) => [r.reference.name, r.holder]),
      [['handmade', 'made by hand (field manager "kubectl-create")']],
    );
    // The rest of the application converged: web is applied and controlled by a1.
    const web = (await deployment('web'))!;
    assert.equal(web.metadata.ownerReferences?.[0]?.uid, app.metadata.uid);
    assert.deepEqual(
      app.status?.workloads?.map((w) => [w.componentName, w.message]).find(([c]) => c === 'handmade'),
      ['handmade', 'not applied: held by made by hand (field manager "kubectl-create")'],
    );
    // Untouched: same resourceVersion, kubectl's container only, no owner, no Trellis annotation.
    const after = (await deployment('handmade'))!;
    assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion);
    assert.deepEqual(
      after.spec.template.spec.containers.map((c) => c.image),
      ['busybox:1'],
    );
    assert.equal(after.metadata.ownerReferences, undefined);
    assert.ok(!Object.keys(after.metadata.annotations ?? {}).some((k) => k.startsWith('trellis.dev/')));
    const warned = await eventually(
      async () => (await events('a1')).find((e) => e.startsWith('Warning OwnershipConflict: ')),
      { what: 'a Warning Event' },
    );
    assert.match(
      warned,
      /Deployment\/.*\/handmade: exists and is not controlled by .*made by hand \(field manager "kubectl-create"\)/,
    );
    // `trellis status` shows it.
    const status = await trellis(['status', 'a1', '-n', ns.name, '--kubeconfig', testCluster().kubeconfig]);
    assert.match(
      status.out,
      /refused: Deployment\/handmade — made by hand \(field manager "kubectl-create"\) holds it/,
    );
  });

  it('two AppConfigs, one Deployment: one keeps it, the other is refused naming it, and takes it once the first is deleted', async () => {
    const seen = await recordDeployments();
    await kube().apply(component('web', deploymentWorkload('web')));
    // Both start at once: exactly one may create the Deployment.
    await Promise.all(['a1', 'a2'].map((n) => kube().apply(appConfig(n, [{ componentName: 'web' }]))));
    const [first, second] = await eventually(
      async () => {
        const owner = (await deployment('web'))?.metadata.ownerReferences?.find((r) => r.controller)?.name;
        if (!owner) return false;
        const other = owner === 'a1' ? 'a2' : 'a1';
        const refused = (await getApp(other)).status?.syncReason === 'OwnershipConflict';
        return refused && ([owner, other] as const);
      },
      { what: 'one AppConfig holding web, the other refused', timeoutMs: 60_000 },
    );
    await synced(first, 'True');
    const refused = await synced(second, 'False', 'OwnershipConflict');
    assert.match(
      refused.status!.conditions!.find((c) => c.type === 'Synced')!.message!,
      new RegExp(
        `Deployment/${ns.name}/web: exists and is not controlled by ApplicationConfiguration/${ns.name}/${second} .*: it is controlled by ApplicationConfiguration/${ns.name}/${first}; it passes to`,
      ),
    );
    assert.equal(refused.status?.ownership?.refused?.[0]?.holder, `ApplicationConfiguration/${ns.name}/${first}`);

    await kube().delete({ apiVersion: OAM, kind: 'ApplicationConfiguration', name: first, namespace: ns.name });
    // The garbage collector deletes web with its owner; the deletion wakes the second, which takes it.
    const taken = await eventually(
      async () => {
        const d = await deployment('web');
        return d?.metadata.ownerReferences?.find((r) => r.controller)?.name === second && d;
      },
      { what: `${second} to take web`, timeoutMs: 90_000 },
    );
    const now = await synced(second, 'True');
    assert.equal(taken.metadata.ownerReferences?.length, 1);
    assert.equal(taken.metadata.ownerReferences?.[0]?.uid, now.metadata.uid);
    assert.equal(now.status?.ownership, undefined);
    // Never two controllers, never a mix of two renders.
    assert.ok(seen.length >= 2, `${seen.length} versions seen`);
    for (const d of seen) {
      assert.ok(
        (d.metadata.ownerReferences ?? []).filter((r) => r.controller).length <= 1,
        JSON.stringify(d.metadata.ownerReferences),
      );
      assert.equal(d.spec.template.spec.containers.length, 1);
    }
  });

  it('adopts a Deployment made by hand once it is annotated for the AppConfig: what it renders replaces what kubectl made, and it says so', async () => {
    assert.equal((await kubectl(['create', 'deployment', 'handmade', '--image=busybox:1', '-n', ns.name])).code, 0);
    await kube().apply(component('handmade', deploymentWorkload('handmade')));
    await kube().apply(appConfig('a1', [{ componentName: 'handmade' }]));
    await synced('a1', 'False', 'OwnershipConflict');
    // The annotation alone wakes the AppConfig (a watch on the refused object, not a poll).
    const annotated = await kubectl([
      'annotate',
      'deployment',
      'handmade',
      '-n',
      ns.name,
      'trellis.dev/adopt=ApplicationConfiguration/a1',
    ]);
    assert.equal(annotated.code, 0, annotated.stderr);
    const app = await synced('a1', 'True');
    const d = (await deployment('handmade'))!;
    assert.deepEqual(
      d.metadata.ownerReferences?.map((r) => [r.name, r.uid, r.controller]),
      [['a1', app.metadata.uid, true]],
    );
    assert.deepEqual(
      d.spec.template.spec.containers.map((c) => `${c.name}=${c.image}`),
      ['main=nginx:1.27'],
      "kubectl's busybox container is gone",
    );
    assert.equal(d.metadata.annotations?.['trellis.dev/adopt'], undefined, 'the adoption annotation is removed');
    // Named sorted by name, whatever order the API server keeps managedFields in.
    const from = 'made by hand (field managers "kubectl-annotate", "kubectl-create")';
    assert.deepEqual(
      app.status?.ownership?.adopted?.map((a) => [a.reference.name, a.from]),
      [['handmade', from]],
    );
    const adoptedEvent = await eventually(
      async () => (await events('a1')).find((e) => e.startsWith('Normal Adopted: ')),
      { what: 'an Adopted Event' },
    );
    assert.equal(
      adoptedEvent,
      `Normal Adopted: adopted Deployment/handmade, which was ${from}, on its trellis.dev/adopt annotation`,
    );
    const status = await trellis(['status', 'a1', '-n', ns.name, '--kubeconfig', testCluster().kubeconfig]);
    assert.match(
      status.out,
      /\nadopted: Deployment\/handmade — made by hand \(field managers "kubectl-annotate", "kubectl-create"\), at 20\d\d-/,
    );
  });

  it('apply-once: a hand edit stands through a re-sync and a controller restart; a Component change applies again', async () => {
    await kube().apply(
      component('web', { ...deploymentWorkload('web'), spec: { ...deploymentWorkload('web').spec, replicas: 2 } }),
    );
    await kube().apply(appConfig('a1', [{ componentName: 'web' }], { applyOnce: true }));
    await synced('a1', 'True');
    assert.equal((await deployment('web'))!.metadata.annotations?.['trellis.dev/apply-once'], '1/web-v1');
    assert.equal((await kubectl(['scale', 'deployment', 'web', '--replicas=5', '-n', ns.name])).code, 0);
    assert.equal((await kubectl(['set', 'image', 'deployment/web', 'main=nginx:hand', '-n', ns.name])).code, 0);
    const handEdited = (d: Deployment | undefined) =>
      d?.spec.replicas === 5 && d.spec.template.spec.containers[0]!.image === 'nginx:hand';
    await resynced('a1', 'one');
    assert.ok(handEdited((await deployment('web'))!), 'the hand edit stands after a re-sync');

    // A controller restart: nothing in memory decides it.
    await controllers.manager!.stop();
    controllers.kube!.close();
    const restarted = await KubeClient.connect({
      kubeconfig: testCluster().controllerKubeconfig,
      fieldManager: 'trellis',
    });
    controllers.kube = restarted;
    const { Manager } = await import('../../../runtime/index.js');
    const { registerControllers } = await import('../../../controllers/index.js');
    controllers.manager = new Manager({ kube: restarted, concurrency: 2, gracefulShutdownMs: 5000 });
    registerControllers(controllers.manager, { namespace: ns.name });
    await controllers.manager.start();
    await resynced('a1', 'two');
    assert.ok(handEdited((await deployment('web'))!), 'the hand edit stands after a restart');

    // A new revision of the Component applies it again.
    await kube().apply(
      component('web', {
        ...deploymentWorkload('web', 'nginx:1.28'),
        spec: { ...deploymentWorkload('web', 'nginx:1.28').spec, replicas: 2 },
      }),
    );
    const reapplied = await eventually(
      async () => {
        const d = await deployment('web');
        return d?.spec.template.spec.containers[0]!.image === 'nginx:1.28' && d;
      },
      { what: 'the new revision applied', timeoutMs: 60_000 },
    );
    assert.equal(reapplied.spec.replicas, 2);
    assert.equal(reapplied.metadata.annotations?.['trellis.dev/apply-once'], '1/web-v2');

    // Without apply-once (a new generation of the AppConfig), drift is corrected again.
    await kube().apply(appConfig('a1', [{ componentName: 'web' }], { applyOnce: false }));
    await synced('a1', 'True');
    assert.equal((await kubectl(['scale', 'deployment', 'web', '--replicas=7', '-n', ns.name])).code, 0);
    await eventually(async () => (await deployment('web'))?.spec.replicas === 2, { what: 'replicas corrected' });
  });

  it("apply-once per trait: the trait's object keeps a hand edit while the workload's drift is corrected", async () => {
    await kube().apply(
      component('web', { ...deploymentWorkload('web'), spec: { ...deploymentWorkload('web').spec, replicas: 2 } }),
    );
    await kube().apply(
      appConfig('a1', [
        {
          componentName: 'web',
          traits: [{ trait: { name: 'expose', properties: { ports: [{ port: 80 }] } }, applyOnce: true }],
        },
      ]),
    );
    await synced('a1', 'True');
    const service = () =>
      kube().get<KubeObject & { spec: { ports: { targetPort: number }[] } }>({
        apiVersion: 'v1',
        kind: 'Service',
        name: 'web-expose',
        namespace: ns.name,
      });
    assert.equal((await service()).metadata.annotations?.['trellis.dev/apply-once'], '1/web-v1');
    assert.equal((await deployment('web'))!.metadata.annotations?.['trellis.dev/apply-once'], undefined);
    assert.equal(
      (
        await kubectl([
          'patch',
          'service',
          'web-expose',
          '-n',
          ns.name,
          '--type',
          'json',
          '-p',
          '[{"op":"replace","path":"/spec/ports/0/targetPort","value":9090}]',
        ])
      ).code,
      0,
    );
    assert.equal((await kubectl(['scale', 'deployment', 'web', '--replicas=5', '-n', ns.name])).code, 0);
    await eventually(async () => (await deployment('web'))?.spec.replicas === 2, {
      what: "the workload's replicas corrected",
    });
    await resynced('a1', 'once');
    assert.equal((await service()).spec.ports[0]!.targetPort, 9090, "the trait's hand edit stands");
  });
});
