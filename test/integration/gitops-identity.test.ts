import assert from 'node:assert/strict';
import type { GitSync } from '../../apis/generated/gitops.trellis.dev-v1alpha1.js';
import { requestSync } from '../../gitops/index.js';
import { serviceAccountUser, type KubeObject } from '../../kube/index.js';
import { testCluster } from '../support/cluster.js';
import { TestRepo } from '../support/git-repo.js';
import { eventAbout, getGitSync, syncedTo, useGitOpsController } from '../support/gitops.js';
import { eventually, useNamespace } from '../support/namespace.js';

const configMap = (name: string, v: string, namespace?: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${namespace ? `  namespace: ${namespace}\n` : ''}data: { v: "${v}" }\n`;
const secret = (name: string) => `apiVersion: v1\nkind: Secret\nmetadata: { name: ${name} }\nstringData: { k: "v" }\n`;
const kube = () => testCluster().kube;
const rbac = 'rbac.authorization.k8s.io';

/** A ServiceAccount `name` in `saNamespace`, allowed `verbs` on `resources` in `namespace`. */
async function grant(
  saNamespace: string,
  name: string,
  resources: string[],
  namespace = saNamespace,
  verbs = ['get', 'list', 'create', 'patch', 'delete'],
): Promise<void> {
  await kube().apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: saNamespace } });
  await kube().apply({
    apiVersion: `${rbac}/v1`,
    kind: 'Role',
    metadata: { name, namespace },
    rules: [{ apiGroups: [''], resources, verbs }],
  });
  await kube().apply({
    apiVersion: `${rbac}/v1`,
    kind: 'RoleBinding',
    metadata: { name, namespace },
    roleRef: { apiGroup: rbac, kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name, namespace: saNamespace }],
  });
}

/** Waits until RBAC lets the ServiceAccount (dry-run) apply `obj`: the authorizer's cache follows Role changes. */
async function mayApply(saNamespace: string, name: string, obj: KubeObject): Promise<void> {
  const as = kube().impersonate(serviceAccountUser(saNamespace, name));
  await eventually(
    async () =>
      await as
        .apply(obj, { dryRun: true })
        .then(() => true)
        .catch(() => false),
    { what: `${saNamespace}/${name} to be allowed to write ${obj.kind}/${obj.metadata.name}` },
  );
}

describe('gitops: spec.serviceAccountName — applying as a ServiceAccount (impersonation)', function () {
  const ns = useNamespace('gsid');
  useGitOpsController(ns);
  let repo: TestRepo;
  let other: string;
  beforeEach(async () => {
    repo = await TestRepo.create();
    other = `${ns.name}-other`;
    await kube().apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: other, labels: { 'trellis.dev/test': 'true' } },
    });
  });
  afterEach(async () => {
    await repo.cleanup();
    await kube().delete({ apiVersion: 'v1', kind: 'Namespace', name: other });
  });
  const get = (kind: string, name: string, namespace = ns.name) =>
    kube().getOrNull({ apiVersion: 'v1', kind, name, namespace });

  it('reports what the ServiceAccount may not write (object and permission), applies and prunes nothing of that commit, and applies it once granted', async () => {
    await grant(ns.name, 'deployer', ['configmaps']);
    const first = await repo.commit({ 'deploy/a.yaml': configMap('a', '1'), 'deploy/b.yaml': configMap('b', '1') });
    const spec: Partial<GitSync['spec']> = {
      url: repo.fileUrl,
      path: 'deploy',
      interval: '10m',
      serviceAccountName: 'deployer',
      allowedNamespaces: [other],
    };
    await kube().apply({
      apiVersion: 'gitops.trellis.dev/v1alpha1',
      kind: 'GitSync',
      metadata: { name: 'apps', namespace: ns.name },
      spec,
    });
    await syncedTo(ns.name, first);

    // a changed, b removed, c added — plus a Secret and a ConfigMap in another namespace, neither of which it may write.
    const second = await repo.commit({
      'deploy/a.yaml': configMap('a', '2'),
      'deploy/b.yaml': null,
      'deploy/c.yaml': configMap('c', '1'),
      'deploy/s.yaml': secret('s'),
      'deploy/x.yaml': configMap('x', '1', other),
    });
    await requestSync(kube(), [{ namespace: ns.name, name: 'apps' }]);
    const gs = await syncedTo(ns.name, second, 'Forbidden');
    const ready = gs.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'Forbidden');
    const message = ready?.message ?? '';
    const sa = `system:serviceaccount:${ns.name}:deployer`;
    assert.match(
      message,
      new RegExp(
        `^Forbidden: \\[TRL_GITOPS_FORBIDDEN\\] ServiceAccount ${ns.name}/deployer may not write 2 object\\(s\\), nothing was applied: `,
      ),
    );
    // Each object with the API server's refusal: which verb it checks first is apply/'s business (it reads
    // before it writes), so any verb apply needs; the message then names every verb to grant.
    const verb = '(get|create|patch)';
    assert.match(
      message,
      new RegExp(
        `Secret/${ns.name}/s: .*User "${sa}" cannot ${verb} resource "secrets" in API group "" in the namespace "${ns.name}"`,
      ),
    );
    assert.match(
      message,
      new RegExp(
        `ConfigMap/${other}/x: .*User "${sa}" cannot ${verb} resource "configmaps" in API group "" in the namespace "${other}"`,
      ),
    );
    assert.match(
      message,
      new RegExp(
        `grant it get, create, patch \\(and delete, to prune\\) on those resources .* — still running commit ${first.slice(0, 12)}$`,
      ),
    );
    assert.equal(
      `Forbidden: ${await eventAbout(ns.name, 'Forbidden')} — still running commit ${first.slice(0, 12)}`,
      message,
    );
    // Nothing of the refused commit happened, and nothing was lost.
    assert.deepEqual((await get('ConfigMap', 'a'))?.data, { v: '1' });
    assert.ok(await get('ConfigMap', 'b'), 'not pruned');
    assert.equal(await get('ConfigMap', 'c'), undefined);
    assert.equal(await get('Secret', 's'), undefined);
    assert.equal(await get('ConfigMap', 'x', other), undefined);
    assert.deepEqual(gs.status?.lastAppliedCommit, first);
    assert.deepEqual(gs.status?.inventory?.map((e) => e.name).sort(), ['a', 'b']);

    // Granted the rights, the same commit goes through.
    await grant(ns.name, 'deployer', ['configmaps', 'secrets']);
    await grant(ns.name, 'deployer', ['configmaps'], other);
    await mayApply(ns.name, 'deployer', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', namespace: ns.name },
    });
    await mayApply(ns.name, 'deployer', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'x', namespace: other },
    });
    await requestSync(kube(), [{ namespace: ns.name, name: 'apps' }]);
    await syncedTo(ns.name, second);
    assert.deepEqual((await get('ConfigMap', 'a'))?.data, { v: '2' });
    assert.equal(await get('ConfigMap', 'b'), undefined, 'pruned as the ServiceAccount');
    assert.ok(await get('Secret', 's'));
    assert.ok(await get('ConfigMap', 'x', other));
  });
});

describe('gitops: the controller default ServiceAccount (--gitops-default-service-account)', function () {
  const ns = useNamespace('gsdef');
  useGitOpsController(ns, { defaultServiceAccount: 'gitops-default' });
  let repo: TestRepo;
  beforeEach(async () => {
    repo = await TestRepo.create();
  });
  afterEach(() => repo.cleanup());

  it('acts as it for GitSyncs without spec.serviceAccountName, and changes nothing while it does not exist', async () => {
    const commit = await repo.commit({ 'deploy/a.yaml': configMap('a', '1') });
    await kube().apply({
      apiVersion: 'gitops.trellis.dev/v1alpha1',
      kind: 'GitSync',
      metadata: { name: 'apps', namespace: ns.name },
      spec: { url: repo.fileUrl, path: 'deploy', interval: '10m' },
    });
    const gs = await syncedTo(ns.name, commit, 'Forbidden');
    assert.equal(
      gs.status?.conditions?.find((c) => c.type === 'Ready')?.message,
      `Forbidden: [TRL_GITOPS_SERVICE_ACCOUNT] GitSync/${ns.name}/apps: ServiceAccount "gitops-default" (from the controller default (--gitops-default-service-account)) does not exist in namespace "${ns.name}": the GitSync acts as it and changes nothing until it exists`,
    );
    assert.match(await eventAbout(ns.name, 'Forbidden'), /TRL_GITOPS_SERVICE_ACCOUNT/);
    assert.equal(
      await kube().getOrNull({ apiVersion: 'v1', kind: 'ConfigMap', name: 'a', namespace: ns.name }),
      undefined,
    );

    await grant(ns.name, 'gitops-default', ['configmaps']);
    await mayApply(ns.name, 'gitops-default', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'a', namespace: ns.name },
    });
    await requestSync(kube(), [{ namespace: ns.name, name: 'apps' }]);
    await syncedTo(ns.name, commit);
    assert.ok(await kube().getOrNull({ apiVersion: 'v1', kind: 'ConfigMap', name: 'a', namespace: ns.name }));
    assert.equal((await getGitSync(ns.name))?.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  });
});
