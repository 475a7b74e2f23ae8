import assert from 'node:assert/strict';
import { testCluster } from '../support/cluster.js';
import { eventually, useNamespace } from '../support/namespace.js';
import { Informer, type KubeObject } from '../../kube/index.js';

describe('kube: Informer after a real 410 Gone', () => {
  const ns = useNamespace();
  let informer: Informer | undefined;
  afterEach(async () => {
    await informer?.stop();
    informer = undefined;
  });

  const configMap = (namespace: string, name: string, value: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace },
    data: { value },
  });

  it('re-lists when a restarted API server no longer has its resourceVersion, and reports what changed as add/update/delete', async function () {
    const { kube, controlPlane } = testCluster();
    await kube.apply(configMap(ns.name, 'stays', '1'));
    await kube.apply(configMap(ns.name, 'changes', '1'));
    await kube.apply(configMap(ns.name, 'goes', '1'));
    informer = new Informer(kube, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: ns.name,
      resyncMs: 0,
      backoff: { initialMs: 100, maxMs: 1000 },
    });
    const events: string[] = [];
    informer.on({
      add: (o) => events.push(`add ${o.metadata.name}`),
      update: (o) => events.push(`update ${o.metadata.name} ${(o.data as { value: string }).value}`),
      delete: (o) => events.push(`delete ${o.metadata.name}`),
    });
    await informer.start();
    events.length = 0;
    // A write this informer does not watch moves the store past the informer's resourceVersion. The
    // restarted API server starts its watch cache at the store's current revision, so a watch from
    // the informer's older resourceVersion is answered 410 Gone ("too old resource version") — and
    // with etcd's history compacted, also when the server hands a watch to etcd while its cache is
    // still initialising (without it, a watch that came early enough resumed and listed nothing).
    await kube.apply(configMap('default', `bump-${ns.name}`, String(Date.now())));
    await controlPlane.compactEtcd();
    await controlPlane.restartApiServer();
    await kube.apply(configMap(ns.name, 'changes', '2'));
    await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: 'goes', namespace: ns.name });
    await kube.apply(configMap(ns.name, 'new', '1'));
    await eventually(
      async () => events.includes('add new') && events.includes('delete goes') && events.includes('update changes 2'),
      { what: `events after the restart (saw ${events.join(', ')})`, timeoutMs: 60_000 },
    );
    assert.equal(informer.relists, 2, 'the 410 made the informer list again');
    assert.ok(
      !events.some((e) => e.startsWith('add stays') || e.startsWith('update stays')),
      'an unchanged object is not reported again',
    );
    const listed = (await kube.list('v1', 'ConfigMap', { namespace: ns.name })).items
      .map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`)
      .sort();
    assert.deepEqual(
      informer
        .list()
        .map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`)
        .sort(),
      listed,
    );
    await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: `bump-${ns.name}`, namespace: 'default' });
  });
});
