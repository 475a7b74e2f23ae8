import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { testCluster } from '../support/cluster.js';
import { eventually, useNamespace } from '../support/namespace.js';
import type { KubeObject } from '../../kube/index.js';

const exec = promisify(execFile);

describe('test control plane', () => {
  const ns = useNamespace();

  it('is a real cluster: a client-node informer sees the garbage collector delete a Deployment whose owner was deleted', async () => {
    const { kube, kubeconfig } = testCluster();
    const owner = await kube.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'owner', namespace: ns.name },
      data: {},
    });
    await kube.apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'owned',
        namespace: ns.name,
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid! }],
      },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'owned' } },
        template: { metadata: { labels: { app: 'owned' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      },
    });

    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const informer = k8s.makeInformer(kc, `/apis/apps/v1/namespaces/${ns.name}/deployments`, () =>
      apps.listNamespacedDeployment({ namespace: ns.name }),
    );
    const seen: string[] = [];
    informer.on('add', (d) => seen.push(`add ${d.metadata?.name}`));
    informer.on('delete', (d) => seen.push(`delete ${d.metadata?.name}`));
    await informer.start();
    try {
      await eventually(async () => seen.includes('add owned'), { what: 'informer add event' });
      // The Deployment controller is real too: it creates a ReplicaSet.
      await eventually(
        async () => (await kube.list('apps/v1', 'ReplicaSet', { namespace: ns.name })).items.length === 1,
        { what: 'ReplicaSet from the Deployment controller' },
      );

      await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', namespace: ns.name });
      await eventually(async () => seen.includes('delete owned'), {
        what: 'garbage collection of the owned Deployment',
        timeoutMs: 60_000,
      });
      assert.equal(
        await kube.getOrNull({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'owned', namespace: ns.name }),
        undefined,
      );
    } finally {
      await informer.stop();
    }
  });

  it('schedules pods onto simulated nodes, where they become Ready', async () => {
    const { kube } = testCluster();
    await kube.apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: ns.name },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      },
    });
    const ready = await eventually(
      async () => {
        const d = await kube.get<KubeObject & { status?: { readyReplicas?: number } }>({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'web',
          namespace: ns.name,
        });
        return d.status?.readyReplicas === 2 && d;
      },
      { what: 'two ready replicas', timeoutMs: 60_000 },
    );
    assert.equal(ready.status?.readyReplicas, 2);
  });

  it('keeps the simulated nodes ready: each renews its Lease, so the node controller never marks them (and their pods) not ready', async () => {
    const { kube } = testCluster();
    const nodes = (await kube.list<KubeObject>('v1', 'Node', { labelSelector: 'type=kwok' })).items;
    assert.ok(nodes.length >= 1);
    for (const node of nodes) {
      const lease = await eventually(
        () =>
          kube
            .getOrNull<KubeObject & { spec: { renewTime?: string; leaseDurationSeconds?: number } }>({
              apiVersion: 'coordination.k8s.io/v1',
              kind: 'Lease',
              name: node.metadata.name!,
              namespace: 'kube-node-lease',
            })
            .then((l) => l ?? undefined),
        { what: `the Lease of ${node.metadata.name}` },
      );
      assert.ok((lease.spec.leaseDurationSeconds ?? 0) > 0);
      assert.ok(lease.spec.renewTime, 'renewed by kwok');
    }
  });

  it('enforces RBAC: an identity without bindings is forbidden, with the server saying so', async () => {
    const { controlPlane } = testCluster();
    const kubeconfig = await controlPlane.kubeconfigFor('nobody');
    await assert.rejects(
      exec('kubectl', ['--kubeconfig', kubeconfig, 'get', 'pods', '-n', ns.name]),
      (err: { stderr: string }) => /forbidden: User "nobody" cannot list resource "pods"/.test(err.stderr),
    );
  });
});
