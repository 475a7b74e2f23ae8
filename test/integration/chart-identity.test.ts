import assert from 'node:assert/strict';
import { testCluster } from '../support/cluster.js';
import { eventually, useNamespace } from '../support/namespace.js';
import { KubeClient, isForbidden, serviceAccountUser, type KubeObject } from '../../kube/index.js';

describe("the chart's ServiceAccount (as which controllers run in tests)", () => {
  const ns = useNamespace();
  let asController: KubeClient;
  before(async () => {
    asController = await KubeClient.connect({
      kubeconfig: testCluster().controllerKubeconfig,
      fieldManager: 'trellis',
    });
  });
  after(() => asController.close());

  it('may manage what the built-in definitions render, in any namespace', async () => {
    const deployment = await asController.apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: ns.name },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      },
    });
    assert.equal(deployment.metadata.namespace, ns.name);
    await asController.apply({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'Component',
      metadata: { name: 'c', namespace: ns.name },
      spec: { workload: { apiVersion: 'v1', kind: 'ConfigMap' } },
    });
  });

  it('is refused what it has no business doing, and the fixture notices every refusal', async () => {
    const { forbiddenRequests, controlPlane } = testCluster();
    await assert.rejects(asController.list('v1', 'Node'), isForbidden);
    await assert.rejects(
      asController.apply({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'escalate' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [],
      }),
      isForbidden,
    );
    const denied = await eventually(
      async () => {
        const events = await forbiddenRequests();
        return events.length >= 2 && events;
      },
      { what: 'the refusals in the audit log' },
    );
    assert.ok(denied.some((e) => e.objectRef?.resource === 'nodes' && e.verb === 'list'));
    assert.ok(denied.some((e) => e.objectRef?.resource === 'clusterrolebindings'));
    // These refusals were the point of this test; the root hook must only see unexpected ones.
    await controlPlane.clearAuditLog();
    assert.deepEqual(await forbiddenRequests(), []);
  });

  it('may act as a ServiceAccount (GitSync spec.serviceAccountName) but not as a user or group', async () => {
    type Review = KubeObject & { status: { userInfo: { username: string } } };
    const whoAmI = async (kube: KubeClient) =>
      (await kube.create<Review>({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: {} }))
        .status.userInfo.username;
    assert.equal(
      await whoAmI(asController.impersonate(serviceAccountUser(ns.name, 'deployer'))),
      `system:serviceaccount:${ns.name}:deployer`,
    );
    await assert.rejects(
      whoAmI(asController.impersonate('alice@example.com')),
      (err: Error) => isForbidden(err) && /cannot impersonate resource "users"/.test(err.message),
    );
    await assert.rejects(
      whoAmI(asController.impersonate(serviceAccountUser(ns.name, 'deployer'), ['system:masters'])),
      (err: Error) => isForbidden(err) && /cannot impersonate resource "groups"/.test(err.message),
    );
    // Deliberate refusals: not a missing chart rule.
    await testCluster().controlPlane.clearAuditLog();
  });

  it('gains rules from any ClusterRole carrying the aggregation label (how operators add their own CRDs)', async () => {
    const { kube } = testCluster();
    await assert.rejects(asController.list('scheduling.k8s.io/v1', 'PriorityClass'), isForbidden);
    await testCluster().controlPlane.clearAuditLog();
    await kube.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'trellis-test-aggregated', labels: { 'trellis.dev/aggregate-to-controller': 'true' } },
      rules: [{ apiGroups: ['scheduling.k8s.io'], resources: ['priorityclasses'], verbs: ['list'] }],
    });
    try {
      await eventually(
        async () =>
          (await asController.list('scheduling.k8s.io/v1', 'PriorityClass').catch(() => undefined)) !== undefined,
        { what: 'the aggregated rule to take effect' },
      );
    } finally {
      await kube.delete({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        name: 'trellis-test-aggregated',
      });
      await testCluster().controlPlane.clearAuditLog();
    }
  });
});
