import assert from 'node:assert/strict';
import { KubeClient, isForbidden, serviceAccountUser, type KubeObject } from '../../kube/index.js';
import { testCluster } from '../support/cluster.js';
import { eventually, useNamespace } from '../support/namespace.js';

type Review = KubeObject & { status: { userInfo: { username: string; groups?: string[] } } };
const whoAmI = async (kube: KubeClient) =>
  (await kube.create<Review>({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: {} }))
    .status.userInfo;

describe('kube: KubeClient.impersonate (real API server)', () => {
  const ns = useNamespace('imp');

  it('acts as a ServiceAccount with the groups the API server gives it, and only with its rights', async () => {
    const { kube } = testCluster();
    await kube.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'deployer', namespace: ns.name } });
    await kube.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'configmaps', namespace: ns.name },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'create', 'patch'] }],
    });
    await kube.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'deployer', namespace: ns.name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmaps' },
      subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: ns.name }],
    });
    const asDeployer = kube.impersonate(serviceAccountUser(ns.name, 'deployer'));
    assert.deepEqual(asDeployer.impersonation, { user: `system:serviceaccount:${ns.name}:deployer`, groups: [] });

    const me = await whoAmI(asDeployer);
    assert.equal(me.username, `system:serviceaccount:${ns.name}:deployer`);
    assert.deepEqual([...(me.groups ?? [])].sort(), [
      'system:authenticated',
      'system:serviceaccounts',
      `system:serviceaccounts:${ns.name}`,
    ]);

    // The API server's authorizer learns of a new RoleBinding through its own watch: until then the
    // ServiceAccount is refused (seen under load), so the first allowed write is retried until it is.
    const cm = await eventually(
      () =>
        asDeployer.apply({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'allowed', namespace: ns.name },
          data: { a: '1' },
        }),
      { what: "the deployer's RoleBinding in effect" },
    );
    assert.equal(
      (cm.metadata.managedFields as { manager?: string }[] | undefined)?.[0]?.manager,
      kube.fieldManager,
      'same field manager as the client it came from',
    );
    await assert.rejects(
      asDeployer.apply({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'not-allowed', namespace: ns.name },
        stringData: { a: '1' },
      }),
      (err: Error) =>
        isForbidden(err) &&
        /User "system:serviceaccount:.*:deployer" cannot patch resource "secrets"/.test(err.message),
    );
    // The client it came from is unchanged, and closing the impersonating one leaves its connection usable.
    asDeployer.close();
    const admin = await whoAmI(kube);
    assert.notEqual(admin.username, me.username);
    assert.ok(admin.groups?.includes('system:masters'));
    assert.equal(
      await kube.getOrNull({ apiVersion: 'v1', kind: 'Secret', name: 'not-allowed', namespace: ns.name }),
      undefined,
    );
  });

  it('acts as a user with named groups', async () => {
    const me = await whoAmI(testCluster().kube.impersonate('alice@example.com', ['team-a', 'team-b']));
    assert.equal(me.username, 'alice@example.com');
    assert.deepEqual(me.groups, ['team-a', 'team-b', 'system:authenticated']);
  });
});
