import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { GitSync } from '../../apis/generated/gitops.trellis.dev-v1alpha1.js';
import { ANNOTATION_OWNER } from '../../apply/index.js';
import { GITSYNC_FINALIZER } from '../../gitops/index.js';
import type { KubeObject } from '../../kube/index.js';
import { testCluster } from '../support/cluster.js';
import { TestRepo } from '../support/git-repo.js';
import { eventAbout, getGitSync, syncedTo, useGitOpsController } from '../support/gitops.js';
import { eventually, useNamespace } from '../support/namespace.js';

const exec = promisify(execFile);
const configMap = (name: string, namespace?: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${namespace ? `  namespace: ${namespace}\n` : ''}data: { v: "1" }\n`;
const component = (name: string) =>
  `apiVersion: core.oam.dev/v1alpha2\nkind: Component\nmetadata: { name: ${name} }\nspec:\n  workload: { apiVersion: v1, kind: ConfigMap, data: { a: "1" } }\n`;

describe('gitops: deleting a GitSync (finalizer, prune on delete)', function () {
  const ns = useNamespace('gsdel');
  const gitops = useGitOpsController(ns);
  let repo: TestRepo;
  beforeEach(async () => {
    repo = await TestRepo.create();
  });
  afterEach(async () => {
    await repo.cleanup();
  });

  const kube = () => testCluster().kube;
  const get = (kind: string, name: string, apiVersion = 'v1', namespace = ns.name) =>
    kube().getOrNull({ apiVersion, kind, name, namespace });
  const markOf = (obj: KubeObject | undefined) => obj?.metadata.annotations?.[ANNOTATION_OWNER];
  const create = (spec: Partial<GitSync['spec']> = {}) =>
    kube().apply({
      apiVersion: 'gitops.trellis.dev/v1alpha1',
      kind: 'GitSync',
      metadata: { name: 'apps', namespace: ns.name },
      spec: { url: repo.fileUrl, path: 'deploy', interval: '10m', ...spec },
    });
  const remove = () =>
    kube().delete({ apiVersion: 'gitops.trellis.dev/v1alpha1', kind: 'GitSync', name: 'apps', namespace: ns.name });
  const gone = () =>
    eventually(async () => (await getGitSync(ns.name)) === undefined, {
      what: 'the GitSync to be gone',
      timeoutMs: 60_000,
    });

  /** A ServiceAccount `deployer` allowed `verbs` on ConfigMaps in `namespace`. */
  async function deployer(verbs: string[], namespace = ns.name): Promise<void> {
    await kube().apply({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'deployer', namespace: ns.name },
    });
    await kube().apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'deployer', namespace },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs }],
    });
    await kube().apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'deployer', namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'deployer' },
      subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: ns.name }],
    });
  }

  it('with prune: true deletes everything it applied that still carries its mark, then goes', async () => {
    const commit = await repo.commit({
      'deploy/a.yaml': configMap('a'),
      'deploy/b.yaml': configMap('b'),
      'deploy/web.yaml': component('web'),
    });
    await create();
    const gs = await syncedTo(ns.name, commit);
    assert.deepEqual(gs.metadata.finalizers, [GITSYNC_FINALIZER]);
    // b is handed over (its mark removed): no longer the GitSync's to delete.
    await kube().patch(
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'b', namespace: ns.name },
      { metadata: { annotations: { [ANNOTATION_OWNER]: null } } },
    );

    await remove();
    await gone();
    assert.equal(await get('ConfigMap', 'a'), undefined);
    assert.equal(await get('Component', 'web', 'core.oam.dev/v1alpha2'), undefined);
    assert.ok(await get('ConfigMap', 'b'), 'handed over: kept');
    assert.match(
      await eventAbout(ns.name, 'Pruned'),
      /^deleted 2 object\(s\) it applied; 1 no longer carried its owner mark and were left in place$/,
    );
  });

  it('with prune: false leaves everything in place and removes its owner mark', async () => {
    const commit = await repo.commit({ 'deploy/a.yaml': configMap('a') });
    await create({ prune: false });
    await syncedTo(ns.name, commit);
    assert.equal(markOf(await get('ConfigMap', 'a')), `GitSync.gitops.trellis.dev/${ns.name}/apps`);
    await remove();
    await gone();
    const a = await get('ConfigMap', 'a');
    assert.deepEqual(a?.data, { v: '1' });
    assert.equal(markOf(a), undefined, 'no longer marked as managed');
    assert.match(
      await eventAbout(ns.name, 'Orphaned'),
      /^prune is off: left 1 object\(s\) in place and removed its owner mark from them$/,
    );
  });

  it('when suspended, leaves everything as it is', async () => {
    const commit = await repo.commit({ 'deploy/a.yaml': configMap('a') });
    await create();
    await syncedTo(ns.name, commit);
    await kube().patch(
      { apiVersion: 'gitops.trellis.dev/v1alpha1', kind: 'GitSync', name: 'apps', namespace: ns.name },
      { spec: { suspend: true } },
    );
    await remove();
    await gone();
    assert.equal(
      markOf(await get('ConfigMap', 'a')),
      `GitSync.gitops.trellis.dev/${ns.name}/apps`,
      'untouched, mark and all',
    );
    assert.match(await eventAbout(ns.name, 'LeftInPlace'), /^suspended: left 1 object\(s\) in place/);
  });

  it('survives controller restarts: a GitSync deleted while it is down is cleaned up when it returns, its finalizer removed once, others kept', async () => {
    const commit = await repo.commit({ 'deploy/a.yaml': configMap('a'), 'deploy/b.yaml': configMap('b') });
    await create();
    await syncedTo(ns.name, commit);
    await gitops.stop();
    // Someone else's finalizer, and b already deleted as if a clean-up had begun before a crash.
    const ref = { apiVersion: 'gitops.trellis.dev/v1alpha1', kind: 'GitSync', name: 'apps', namespace: ns.name };
    await kube().patch(ref, { metadata: { finalizers: [GITSYNC_FINALIZER, 'example.com/hold'] } });
    await kube().delete({ apiVersion: 'v1', kind: 'ConfigMap', name: 'b', namespace: ns.name });
    await remove();
    assert.ok(
      (await getGitSync(ns.name))?.metadata.deletionTimestamp,
      'waits for its finalizers while the controller is down',
    );
    assert.ok(await get('ConfigMap', 'a'), 'nothing is cleaned up while the controller is down');

    await gitops.start();
    await eventually(async () => (await get('ConfigMap', 'a')) === undefined, {
      what: 'a to be pruned by the restarted controller',
    });
    assert.match(await eventAbout(ns.name, 'Pruned'), /^deleted 1 object\(s\) it applied; 1 already gone$/);
    const held = await eventually(
      async () => {
        const gs = await getGitSync(ns.name);
        return gs?.metadata.finalizers?.length === 1 && gs;
      },
      { what: 'its own finalizer to be removed' },
    );
    assert.deepEqual(
      held.metadata.finalizers,
      ['example.com/hold'],
      "the other finalizer is not the controller's to remove",
    );

    // Another restart finds it still there (held by the other finalizer): nothing is done twice.
    await gitops.start();
    await eventually(async () => (await gitops.reconciles('success')) >= 1, {
      what: 'the new controller to reconcile the deleted GitSync',
    });
    const events = (await kube().list('v1', 'Event', { namespace: ns.name, fieldSelector: 'involvedObject.name=apps' }))
      .items;
    assert.equal(events.filter((e) => e.reason === 'Pruned').length, 1, 'cleaned up exactly once');
    assert.equal(await gitops.reconciles('error'), 0);
    assert.deepEqual((await getGitSync(ns.name))?.metadata.finalizers, ['example.com/hold']);
    await kube().patch(ref, { metadata: { finalizers: null } });
    await gone();
  });

  it('stays while it may not clean up, says why and how to release it, and that command works', async () => {
    await deployer(['get', 'list', 'create', 'patch']); // no delete
    const commit = await repo.commit({ 'deploy/a.yaml': configMap('a') });
    await create({ serviceAccountName: 'deployer' });
    await syncedTo(ns.name, commit);
    await remove();
    const blocked = await eventually(
      async () => {
        const gs = await getGitSync(ns.name);
        const ready = gs?.status?.conditions?.find((c) => c.type === 'Ready');
        return ready?.reason === 'DeletionBlocked' && ready;
      },
      { what: 'the GitSync to report that it cannot clean up' },
    );
    assert.equal(blocked.status, 'False');
    assert.match(
      blocked.message!,
      /^\[TRL_GITOPS_DELETE\] GitSync\/.*\/apps: deleting what it applied as ServiceAccount .*\/deployer failed: .*cannot delete resource "configmaps".* The GitSync stays until this succeeds/,
    );
    assert.match(await eventAbout(ns.name, 'DeletionBlocked'), /TRL_GITOPS_DELETE/);
    assert.ok(await get('ConfigMap', 'a'));

    // The escape hatch, exactly as the message gives it.
    const command = /remove its finalizer: (kubectl .*)$/.exec(blocked.message!)![1]!;
    assert.equal(
      command,
      `kubectl patch gitsync apps -n ${ns.name} --type=merge -p '{"metadata":{"finalizers":null}}'`,
    );
    await exec('sh', ['-c', command.replace(/^kubectl /, `kubectl --kubeconfig '${testCluster().kubeconfig}' `)]);
    await gone();
    assert.ok(await get('ConfigMap', 'a'), 'released by hand: everything left in place');
  });

  it('never holds up the deletion of its namespace, even when its ServiceAccount may not clean up outside it', async () => {
    const other = `${ns.name}-other`;
    await kube().apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: other, labels: { 'trellis.dev/test': 'true' } },
    });
    try {
      await deployer(['get', 'list', 'create', 'patch', 'delete']);
      await deployer(['get', 'list', 'create', 'patch'], other); // no delete there
      const commit = await repo.commit({ 'deploy/a.yaml': configMap('a'), 'deploy/b.yaml': configMap('b', other) });
      await create({ serviceAccountName: 'deployer', allowedNamespaces: [other] });
      await syncedTo(ns.name, commit);
      await eventAbout(ns.name, 'Applied'); // written before the namespace goes (no Event is accepted after)
      await kube().delete({ apiVersion: 'v1', kind: 'Namespace', name: ns.name });
      await eventually(
        async () => (await kube().getOrNull({ apiVersion: 'v1', kind: 'Namespace', name: ns.name })) === undefined,
        { what: 'the namespace to be deleted', timeoutMs: 90_000 },
      );
      assert.ok(await get('ConfigMap', 'b', 'v1', other), 'the one it could not delete is left behind');
      assert.match(
        gitops.logs(),
        /the namespace is being deleted; deleting what it applied as ServiceAccount .*\/deployer failed: .*cannot delete resource \\"configmaps\\"/,
      );
    } finally {
      await kube().delete({ apiVersion: 'v1', kind: 'Namespace', name: other });
    }
  });
});
