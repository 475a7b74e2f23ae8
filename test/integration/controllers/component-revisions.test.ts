import assert from 'node:assert/strict';
import { testCluster } from '../../support/cluster.js';
import { useControllers } from '../../support/controllers.js';
import { eventually, useNamespace } from '../../support/namespace.js';
import type { KubeObject } from '../../../kube/index.js';
import type { ApplicationConfiguration, Component } from '../../../controllers/types.js';
import type { ComponentRevision } from '../../../controllers/component/index.js';

describe('controllers: Component revisions (DESIGN.md §4.1)', () => {
  const ns = useNamespace();
  useControllers(ns, { revisionHistoryLimit: 2 });

  const component = (name: string, image: string, extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'Component',
    metadata: { name, namespace: ns.name, ...extra },
    spec: {
      workload: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        spec: {
          selector: { matchLabels: { app: name } },
          template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image }] } },
        },
      },
    },
  });
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
