import assert from 'node:assert/strict';
import { testCluster } from '../../support/cluster.js';
import { deploymentComponent } from '../../support/components.js';
import { useControllers } from '../../support/controllers.js';
import { eventually, useNamespace } from '../../support/namespace.js';
import type { KubeObject } from '../../../kube/index.js';
import type { ApplicationConfiguration, Component } from '../../../controllers/types.js';
import {
  ensureRevision,
  registerComponentController,
  type ComponentRevision,
} from '../../../controllers/component/index.js';
import { registerAppConfigController } from '../../../controllers/appconfig/index.js';
import { FIELD_MANAGER } from '../../../controllers/field-managers.js';
import { KubeClient } from '../../../kube/index.js';
import { silentLogger } from '../../../lib/log.js';
import { Manager } from '../../../runtime/index.js';

describe('controllers: Component revisions (DESIGN.md §4.1)', () => {
  const ns = useNamespace();
  useControllers(ns, { revisionHistoryLimit: 2 });

  const component = (name: string, image: string, extra: Partial<KubeObject['metadata']> = {}) =>
    deploymentComponent(ns.name, name, image, extra);
  const revisions = async (name: string) =>
    (
      await testCluster().kube.list<ComponentRevision>('apps/v1', 'ControllerRevision', {
        namespace: ns.name,
        labelSelector: `controller.oam.dev/component=${name}`,
      })
    ).items.sort((a, b) => a.revision - b.revision);
  const latest = async (name: string) =>
    (
      await testCluster().kube.get<Component>({
        apiVersion: 'core.oam.dev/v1alpha2',
        kind: 'Component',
        name,
        namespace: ns.name,
      })
    ).status?.latestRevision;

  it('creates web-v1 owned by the Component with its spec inside, and names it in status.latestRevision', async () => {
    const { kube } = testCluster();
    const created = await kube.apply(component('web', 'nginx:1'));
    const status = await eventually(async () => (await latest('web'))?.name === 'web-v1' && latest('web'), {
      what: 'status.latestRevision',
    });
    assert.equal(status?.revision, 1);
    const [rev] = await revisions('web');
    assert.equal(rev!.metadata.name, 'web-v1');
    assert.deepEqual(rev!.data.spec, created.spec);
    assert.deepEqual(
      rev!.metadata.ownerReferences?.map((o) => `${o.kind}/${o.name}/${o.uid}/${o.controller}`),
      [`Component/web/${created.metadata.uid}/true`],
    );
  });

  it('creates a revision per spec change, none for a metadata-only edit, and never reuses a number', async () => {
    const { kube } = testCluster();
    await kube.apply(component('web', 'nginx:1'));
    await eventually(async () => (await latest('web'))?.name === 'web-v1', { what: 'web-v1' });
    await kube.apply(component('web', 'nginx:1', { labels: { team: 'shop' }, annotations: { note: 'metadata only' } }));
    await kube.apply(component('web', 'nginx:2', { labels: { team: 'shop' }, annotations: { note: 'metadata only' } }));
    await eventually(async () => (await latest('web'))?.name === 'web-v2', { what: 'web-v2' });
    assert.deepEqual(
      (await revisions('web')).map((r) => r.metadata.name),
      ['web-v1', 'web-v2'],
      'the label/annotation edit created no revision',
    );
    // Deleting the newest revision by hand: the current spec gets a revision again, under a new number.
    await kube.delete({ apiVersion: 'apps/v1', kind: 'ControllerRevision', name: 'web-v2', namespace: ns.name });
    await eventually(async () => (await latest('web'))?.name === 'web-v3', { what: 'web-v3 (v2 not reused)' });
    const v3 = (await revisions('web')).find((r) => r.metadata.name === 'web-v3');
    assert.equal(
      (v3!.data.spec.workload as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec.template
        .spec.containers[0]!.image,
      'nginx:2',
    );
    // Going back to an earlier spec is a change too: a new number.
    await kube.apply(component('web', 'nginx:1', { labels: { team: 'shop' }, annotations: { note: 'metadata only' } }));
    await eventually(async () => (await latest('web'))?.name === 'web-v4', { what: 'web-v4' });
  });

  it('keeps at most the history limit, but never a revision an AppConfig pins', async () => {
    const { kube } = testCluster();
    await kube.apply(component('web', 'nginx:1'));
    await eventually(async () => (await latest('web'))?.name === 'web-v1', { what: 'web-v1' });
    await kube.apply({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ApplicationConfiguration',
      metadata: { name: 'pinned', namespace: ns.name },
      spec: { components: [{ revisionName: 'web-v1' }] },
    });
    for (const [i, image] of ['nginx:2', 'nginx:3', 'nginx:4'].entries()) {
      await kube.apply(component('web', image));
      await eventually(async () => (await latest('web'))?.name === `web-v${i + 2}`, { what: `web-v${i + 2}` });
    }
    // Limit 2: the newest and the pinned one stay, the others go.
    await eventually(async () => (await revisions('web')).map((r) => r.metadata.name).join() === 'web-v1,web-v4', {
      what: 'history pruned to the pinned and the newest revision',
    });
    // Once unpinned, web-v1 is history like any other.
    // (Waiting until the AppConfig runs web-v4: were web-v5 created while the AppConfig still ran
    // web-v1, keeping web-v1 and web-v5 would be right, and web-v4 the one to go.)
    await kube.apply({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ApplicationConfiguration',
      metadata: { name: 'pinned', namespace: ns.name },
      spec: { components: [{ componentName: 'web' }] },
    });
    await eventually(
      async () =>
        (
          await kube.get<ApplicationConfiguration>({
            apiVersion: 'core.oam.dev/v1alpha2',
            kind: 'ApplicationConfiguration',
            name: 'pinned',
            namespace: ns.name,
          })
        ).status?.workloads?.[0]?.componentRevisionName === 'web-v4',
      { what: 'the AppConfig running web-v4' },
    );
    await kube.apply(component('web', 'nginx:5'));
    await eventually(async () => (await revisions('web')).map((r) => r.metadata.name).join() === 'web-v4,web-v5', {
      what: 'web-v1 pruned once unpinned',
    });
  });
});

describe('controllers: an AppConfig does not wait for the Component controller (issue 19, ADR 0016)', () => {
  const ns = useNamespace();
  /** A manager running only what `register` adds, as the chart's ServiceAccount; stopped before the namespace goes. */
  const start = async (register: (mgr: Manager) => void) => {
    const kube = await KubeClient.connect({
      kubeconfig: testCluster().controllerKubeconfig,
      fieldManager: FIELD_MANAGER,
    });
    const mgr = new Manager({ kube, logger: silentLogger, concurrency: 2, gracefulShutdownMs: 5000 });
    register(mgr);
    await mgr.start();
    ns.beforeDelete.push(async () => {
      await mgr.stop();
      kube.close();
    });
    return mgr;
  };
  const web = (image: string, name = 'web') => deploymentComponent(ns.name, name, image);
  const revisionNames = async () =>
    (
      await testCluster().kube.list<ComponentRevision>('apps/v1', 'ControllerRevision', {
        namespace: ns.name,
        labelSelector: 'controller.oam.dev/component=web',
      })
    ).items
      .map((r) => r.metadata.name)
      .sort();
  const runs = (revision: string) =>
    eventually(
      async () => {
        const app = await testCluster().kube.get<ApplicationConfiguration>({
          apiVersion: 'core.oam.dev/v1alpha2',
          kind: 'ApplicationConfiguration',
          name: 'shop',
          namespace: ns.name,
        });
        const synced = app.status?.conditions?.find((c) => c.type === 'Synced');
        return (
          app.status?.observedGeneration === app.metadata.generation &&
          synced?.status === 'True' &&
          app.status?.workloads?.[0]?.componentRevisionName === revision &&
          app
        );
      },
      { what: `the AppConfig Synced, running ${revision}` },
    );

  it('makes the revision itself, the same one the Component controller then names, and no other', async () => {
    const { kube } = testCluster();
    await start((mgr) => registerAppConfigController(mgr, { namespace: ns.name }));
    const component = await kube.apply(web('nginx:1'));
    await kube.apply({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ApplicationConfiguration',
      metadata: { name: 'shop', namespace: ns.name },
      spec: { components: [{ componentName: 'web' }] },
    });
    // No Component controller runs: before, the AppConfig waited for status.latestRevision for good.
    await runs('web-v1');
    // ...and its render fingerprint is recorded although the Component's status names no revision: a
    // restart then skips it (before, 17 of 1,000 apps rendered again on a re-sync, bench:reconcile).
    await eventually(
      async () =>
        (
          await kube.get<ApplicationConfiguration>({
            apiVersion: 'core.oam.dev/v1alpha2',
            kind: 'ApplicationConfiguration',
            name: 'shop',
            namespace: ns.name,
          })
        ).status?.fingerprint?.inputs,
      { what: 'status.fingerprint.inputs recorded' },
    );
    const [rev] = (
      await kube.list<ComponentRevision>('apps/v1', 'ControllerRevision', {
        namespace: ns.name,
        labelSelector: 'controller.oam.dev/component=web',
      })
    ).items;
    assert.equal(rev?.metadata.name, 'web-v1');
    assert.deepEqual(rev.data.spec, component.spec);
    assert.deepEqual(
      rev.metadata.ownerReferences?.map((o) => `${o.kind}/${o.name}/${o.uid}/${o.controller}`),
      [`Component/web/${component.metadata.uid}/true`],
      'owned by its Component, as the Component controller makes it',
    );
    const workload = await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: ns.name });
    assert.equal(workload.metadata.labels?.['app.oam.dev/revision'], 'web-v1');

    // The Component controller, started now, adopts that revision: it names it and makes no second one.
    await start((mgr) => registerComponentController(mgr, { namespace: ns.name }));
    const latest = await eventually(
      async () =>
        (
          await kube.get<Component>({
            apiVersion: 'core.oam.dev/v1alpha2',
            kind: 'Component',
            name: 'web',
            namespace: ns.name,
          })
        ).status?.latestRevision,
      { what: 'status.latestRevision' },
    );
    assert.equal(latest.name, 'web-v1');
    assert.deepEqual(await revisionNames(), ['web-v1']);

    // A spec change with both running: one new revision, whoever writes it first.
    await kube.apply(web('nginx:2'));
    await runs('web-v2');
    assert.deepEqual(await revisionNames(), ['web-v1', 'web-v2']);
  });

  it('two writers asking at the same moment get one revision', async () => {
    const { kube } = testCluster();
    const component = (await kube.apply(web('nginx:1'))) as Component;
    const both = await Promise.all([
      ensureRevision(component, { kube, cached: [] }),
      ensureRevision(component, { kube, cached: [] }),
    ]);
    assert.deepEqual(
      both.map((b) => b.revision.metadata.name),
      ['web-v1', 'web-v1'],
    );
    // Only the one whose write made it says it created it (the other announced it too, with apply).
    assert.deepEqual(both.map((b) => b.created).sort(), [false, true]);
    assert.deepEqual(await revisionNames(), ['web-v1']);
  });
  it('both controllers racing for new Components: each revision announced once, each status written once', async () => {
    const { kube, controlPlane } = testCluster();
    const mgr = await start((m) => {
      registerComponentController(m, { namespace: ns.name });
      registerAppConfigController(m, { namespace: ns.name });
    });
    // Components and the AppConfigs using them in one burst: both controllers find each revision missing.
    const names = ['a', 'b', 'c', 'd', 'e', 'f'].map((x) => `web-${x}`);
    await Promise.all(
      names.flatMap((name) => [
        kube.apply(web('nginx:1', name)),
        kube.apply({
          apiVersion: 'core.oam.dev/v1alpha2',
          kind: 'ApplicationConfiguration',
          metadata: { name, namespace: ns.name },
          spec: { components: [{ componentName: name }] },
        }),
      ]),
    );
    for (const name of names) {
      await eventually(
        async () => {
          const [component, app] = await Promise.all([
            kube.get<Component>({ apiVersion: 'core.oam.dev/v1alpha2', kind: 'Component', name, namespace: ns.name }),
            kube.get<ApplicationConfiguration>({
              apiVersion: 'core.oam.dev/v1alpha2',
              kind: 'ApplicationConfiguration',
              name,
              namespace: ns.name,
            }),
          ]);
          return (
            component.status?.latestRevision?.name === `${name}-v1` &&
            app.status?.conditions?.some((c) => c.type === 'Synced' && c.status === 'True') &&
            app.status?.workloads?.[0]?.componentRevisionName === `${name}-v1`
          );
        },
        { what: `${name}: status naming ${name}-v1 and its AppConfig Synced running it` },
      );
    }
    // Stopped: reconciles in flight finish and every Event is written before counting.
    await mgr.stop();

    const statusWrites = (await controlPlane.auditEvents()).filter(
      (e) =>
        e.verb === 'patch' &&
        e.objectRef?.resource === 'components' &&
        e.objectRef.subresource === 'status' &&
        e.objectRef.namespace === ns.name,
    );
    const announced = (
      await kube.list<KubeObject & { reason?: string; regarding?: { name?: string }; series?: { count?: number } }>(
        'events.k8s.io/v1',
        'Event',
        { namespace: ns.name },
      )
    ).items.filter((e) => e.reason === 'RevisionCreated');
    const count = (name: string) => ({
      statusWrites: statusWrites.filter((e) => e.objectRef?.name === name).length,
      revisionCreated: announced
        .filter((e) => e.regarding?.name === name)
        .reduce((n, e) => n + (e.series?.count ?? 1), 0),
    });
    assert.deepEqual(
      Object.fromEntries(names.map((name) => [name, count(name)])),
      Object.fromEntries(names.map((name) => [name, { statusWrites: 1, revisionCreated: 1 }])),
    );
    assert.deepEqual(
      (await kube.list<ComponentRevision>('apps/v1', 'ControllerRevision', { namespace: ns.name })).items
        .map((r) => r.metadata.name)
        .sort(),
      names.map((name) => `${name}-v1`),
    );
  });
});
