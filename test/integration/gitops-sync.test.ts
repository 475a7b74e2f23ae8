import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { GitSync } from '../../apis/generated/gitops.trellis.dev-v1alpha1.js';
import { ANNOTATION_OWNER } from '../../apply/index.js';
import { registerGitOps, signBody, type PushReceiver } from '../../gitops/index.js';
import { KubeClient, type KubeObject } from '../../kube/index.js';
import { createLogger } from '../../lib/log.js';
import { Manager } from '../../runtime/index.js';
import { testCluster } from '../support/cluster.js';
import { TestRepo } from '../support/git-repo.js';
import { GitHttpServer } from '../support/git-http-server.js';
import { releaseGitSyncs } from '../support/gitops.js';
import { eventually, useNamespace } from '../support/namespace.js';

const component = (name: string, image: string) => `apiVersion: core.oam.dev/v1alpha2
kind: Component
metadata:
  name: ${name}
spec:
  workload:
    apiVersion: apps/v1
    kind: Deployment
    spec:
      selector: { matchLabels: { app: ${name} } }
      template:
        metadata: { labels: { app: ${name} } }
        spec: { containers: [{ name: main, image: "${image}" }] }
`;
const appConfig = (name: string) => `apiVersion: core.oam.dev/v1alpha2
kind: ApplicationConfiguration
metadata:
  name: ${name}
spec:
  components:
    - componentName: ${name}
`;
/** One "application": its Component and its ApplicationConfiguration. */
const app = (name: string, image = `registry.example.com/${name}:1`) =>
  `${component(name, image)}---\n${appConfig(name)}`;
/** The container image of a Component's Deployment workload. */
const imageOf = (obj: KubeObject | undefined) =>
  (obj as unknown as { spec: { workload: { spec: { template: { spec: { containers: { image: string }[] } } } } } }).spec
    .workload.spec.template.spec.containers[0]!.image;
const configMap = (name: string, data: Record<string, string>) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n${Object.entries(data)
    .map(([k, v]) => `  ${k}: "${v}"`)
    .join('\n')}\n`;

describe('gitops: GitSync against a real API server and real git', function () {
  const ns = useNamespace('gitops');
  const secret = `wh-${randomBytes(8).toString('hex')}`;
  const auth = { username: 'deploy', password: `pw-${randomBytes(12).toString('hex')}` };
  let repo: TestRepo;
  let server: GitHttpServer;
  let manager: Manager;
  let receiver: PushReceiver;
  let controllerKube: KubeClient;
  let cacheDir: string;
  let logs: string;

  beforeEach(async () => {
    repo = await TestRepo.create();
    server = await GitHttpServer.start({ projectRoot: repo.root, auth });
    cacheDir = await mkdtemp(path.join(os.tmpdir(), 'trellis-gitops-'));
    logs = '';
    const stream = new PassThrough();
    stream.on('data', (d: Buffer) => (logs += d.toString()));
    // The controller runs as the chart's ServiceAccount, with the chart's RBAC.
    controllerKube = await KubeClient.connect({
      kubeconfig: testCluster().controllerKubeconfig,
      fieldManager: 'trellis',
    });
    manager = new Manager({
      kube: controllerKube,
      logger: createLogger({ level: 'debug', destination: stream }),
      concurrency: 2,
      gracefulShutdownMs: 5000,
    });
    receiver = registerGitOps(manager, { cacheDir, namespace: ns.name, receiver: { secret } }).receiver!;
    await manager.start();
  });
  // Before the namespace goes: the controller stops, and the GitSyncs lose their finalizer (nothing would remove it).
  ns.beforeDelete.push(async () => {
    await manager.stop();
    await releaseGitSyncs(ns.name);
  });
  afterEach(async () => {
    controllerKube.close();
    await server.stop();
    await repo.cleanup();
    await rm(cacheDir, { recursive: true, force: true });
  });

  const kube = () => testCluster().kube;
  const get = (kind: string, name: string, apiVersion = 'core.oam.dev/v1alpha2') =>
    kube().getOrNull({ apiVersion, kind, name, namespace: ns.name });
  const gitSync = () =>
    kube().get<GitSync & KubeObject>({
      apiVersion: 'gitops.trellis.dev/v1alpha1',
      kind: 'GitSync',
      name: 'apps',
      namespace: ns.name,
    });
  const ready = (gs: GitSync) => gs.status?.conditions?.find((c) => c.type === 'Ready');

  async function createGitSync(spec: Partial<GitSync['spec']> = {}): Promise<void> {
    await kube().apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'git-auth', namespace: ns.name },
      stringData: auth,
    });
    await kube().apply({
      apiVersion: 'gitops.trellis.dev/v1alpha1',
      kind: 'GitSync',
      metadata: { name: 'apps', namespace: ns.name },
      spec: {
        url: server.urlFor('apps.git'),
        ref: { branch: 'main' },
        path: 'deploy',
        interval: '10m',
        secretRef: { name: 'git-auth' },
        ...spec,
      },
    });
  }

  /** Signs and sends a GitHub-style push notification to the receiver. */
  async function notifyPush(): Promise<Response> {
    const body = JSON.stringify({
      ref: 'refs/heads/main',
      after: await repo.head(),
      repository: { clone_url: server.urlFor('apps.git') },
    });
    return fetch(receiver.url, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-hub-signature-256': signBody(secret, body),
      },
    });
  }

  /** Waits until the GitSync recorded a sync of `commit` with this result. */
  const synced = (commit: string, result = 'Applied') =>
    eventually(
      async () => {
        const gs = await gitSync();
        return gs.status?.history?.[0]?.commit === commit && gs.status.history[0].result === result && gs;
      },
      { what: `GitSync to report ${result} for ${commit.slice(0, 12)}`, timeoutMs: 60_000 },
    );

  it('follows commits that add, change and remove applications, pruning only what it created', async () => {
    const first = await repo.commit(
      { 'deploy/web.yaml': app('web'), 'deploy/api.yaml': app('api'), 'README.md': 'not applied' },
      'add web and api',
    );
    await createGitSync();
    let gs = await synced(first);
    assert.equal(
      (await get('Component', 'web'))?.metadata.annotations?.[ANNOTATION_OWNER],
      `GitSync.gitops.trellis.dev/${ns.name}/apps`,
    );
    assert.ok(await get('ApplicationConfiguration', 'api'));
    assert.deepEqual(
      gs.status!.conditions!.map((c) => `${c.type}=${c.status}`),
      ['Fetched=True', 'Applied=True', 'Ready=True'],
    );
    assert.equal(gs.status!.lastAppliedCommit, first);
    assert.equal(gs.status!.inventory!.length, 4);

    // Objects the sync did not create: one made by hand, and one of its own handed over (mark removed).
    await kube().apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'by-hand', namespace: ns.name },
      data: {},
    });
    await kube().patch(
      { apiVersion: 'core.oam.dev/v1alpha2', kind: 'ApplicationConfiguration', name: 'web', namespace: ns.name },
      { metadata: { annotations: { [ANNOTATION_OWNER]: null } } },
    );

    const second = await repo.commit(
      {
        'deploy/web.yaml': component('web', 'registry.example.com/web:2'),
        'deploy/api.yaml': null,
        'deploy/db.yaml': app('db'),
      },
      'change web, remove api and web appconfig, add db',
    );
    assert.equal((await notifyPush()).status, 202);
    gs = await synced(second);
    assert.equal(imageOf(await get('Component', 'web')), 'registry.example.com/web:2');
    assert.equal(await get('Component', 'api'), undefined, 'api left the repository: pruned');
    assert.equal(await get('ApplicationConfiguration', 'api'), undefined);
    assert.ok(await get('Component', 'db'));
    assert.ok(await get('ApplicationConfiguration', 'web'), 'web AppConfig no longer carries the mark: kept');
    assert.ok(await get('ConfigMap', 'by-hand', 'v1'), 'made by hand: kept');
    assert.equal(gs.status!.history![0]!.pruned, 2);
    assert.deepEqual(gs.status!.inventory!.map((e) => `${e.kind}/${e.name}`).sort(), [
      'ApplicationConfiguration/db',
      'Component/db',
      'Component/web',
    ]);
    assert.deepEqual(
      gs.status!.history!.map((h) => h.result),
      ['Applied', 'Applied'],
    );
  });

  it('keeps the last good state running and says why when a commit has invalid YAML', async () => {
    const good = await repo.commit({ 'deploy/web.yaml': app('web'), 'deploy/api.yaml': app('api') });
    await createGitSync();
    await synced(good);
    const bad = await repo.commit({
      'deploy/api.yaml': null,
      'deploy/web.yaml': app('web', 'registry.example.com/web:2'),
      'deploy/broken.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n   data: [unclosed\n',
    });
    await notifyPush();
    const gs = await synced(bad, 'InvalidManifests');
    assert.ok(await get('Component', 'api'), 'nothing pruned');
    assert.equal(imageOf(await get('Component', 'web')), 'registry.example.com/web:1', 'nothing applied');
    assert.equal(gs.status!.lastAppliedCommit, good);
    assert.equal(gs.status!.lastFetchedCommit, bad);
    assert.equal(ready(gs)!.status, 'False');
    assert.equal(ready(gs)!.reason, 'InvalidManifests');
    assert.match(
      ready(gs)!.message!,
      /\[TRL_GITOPS_MANIFEST\] deploy\/broken\.yaml#1: invalid YAML at line \d+: .* — still running commit/,
    );
    await eventually(
      async () =>
        (
          await kube().list('v1', 'Event', { namespace: ns.name, fieldSelector: 'involvedObject.name=apps' })
        ).items.some(
          (e) =>
            e.type === 'Warning' && e.reason === 'InvalidManifests' && /deploy\/broken\.yaml/.test(String(e.message)),
        ),
      { what: 'a Warning Event saying why' },
    );
  });

  it('keeps the last good state when the API server rejects an object (admission policy), applying and pruning nothing', async function () {
    const policy = `gitops-deny-${ns.name}`;
    await kube().apply({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: policy },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['configmaps'] },
          ],
        },
        validations: [
          {
            expression: "!has(object.data) || !('forbidden' in object.data)",
            message: 'configmaps may not set data.forbidden',
          },
        ],
      },
    });
    await kube().apply({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: policy },
      spec: {
        policyName: policy,
        validationActions: ['Deny'],
        matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns.name } } },
      },
    });
    try {
      // The policy takes a moment to be enforced: wait until a dry run is refused.
      await eventually(
        async () =>
          kube()
            .apply(
              {
                apiVersion: 'v1',
                kind: 'ConfigMap',
                metadata: { name: 'probe', namespace: ns.name },
                data: { forbidden: 'x' },
              },
              { dryRun: true },
            )
            .then(
              () => false,
              (err: Error) => /data\.forbidden/.test(err.message),
            ),
        { what: 'the admission policy to be enforced' },
      );
      const good = await repo.commit({
        'deploy/keep.yaml': configMap('keep', { v: '1' }),
        'deploy/gone.yaml': configMap('gone', { v: '1' }),
      });
      await createGitSync();
      await synced(good);
      const bad = await repo.commit({
        'deploy/gone.yaml': null,
        'deploy/keep.yaml': configMap('keep', { v: '2' }),
        'deploy/evil.yaml': configMap('evil', { forbidden: 'yes' }),
      });
      await notifyPush();
      const gs = await synced(bad, 'Rejected');
      assert.deepEqual((await get('ConfigMap', 'keep', 'v1'))?.data, { v: '1' }, 'nothing applied');
      assert.ok(await get('ConfigMap', 'gone', 'v1'), 'nothing pruned');
      assert.equal(await get('ConfigMap', 'evil', 'v1'), undefined);
      assert.equal(gs.status!.lastAppliedCommit, good);
      assert.equal(ready(gs)!.reason, 'Rejected');
      assert.match(
        ready(gs)!.message!,
        /\[TRL_GITOPS_REJECTED\] the API server rejected 1 object\(s\), nothing was applied: ConfigMap\/.*\/evil: .*configmaps may not set data\.forbidden/,
      );
    } finally {
      await kube().delete({
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicyBinding',
        name: policy,
      });
      await kube().delete({
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicy',
        name: policy,
      });
    }
  });

  it('rolls the cluster back when the branch is force-pushed to an older commit', async () => {
    const old = await repo.commit({ 'deploy/web.yaml': app('web', 'registry.example.com/web:1') });
    await createGitSync();
    await synced(old);
    const newer = await repo.commit({
      'deploy/web.yaml': app('web', 'registry.example.com/web:2'),
      'deploy/extra.yaml': app('extra'),
    });
    await notifyPush();
    await synced(newer);
    assert.ok(await get('Component', 'extra'));
    await repo.forcePushTo(old);
    await notifyPush();
    const gs = await eventually(
      async () => {
        const g = await gitSync();
        return g.status?.lastAppliedCommit === old && g.status.history!.length >= 3 && g;
      },
      { what: 'the rollback to be applied' },
    );
    assert.equal(await get('Component', 'extra'), undefined);
    assert.equal(await get('ApplicationConfiguration', 'extra'), undefined);
    assert.equal(imageOf(await get('Component', 'web')), 'registry.example.com/web:1');
    assert.deepEqual(
      gs.status!.history!.slice(0, 3).map((h) => h.commit),
      [old, newer, old],
    );
  });

  it('refuses manifests that leave the target namespace or are cluster-scoped, unless the GitSync allows them', async () => {
    const crdGroup = `${ns.name}.gitops.example.com`;
    const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: widgets.${crdGroup} }
spec:
  group: ${crdGroup}
  scope: Namespaced
  names: { kind: Widget, plural: widgets, singular: widget, listKind: WidgetList }
  versions: [{ name: v1, served: true, storage: true, schema: { openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true } } }]
`;
    const widget = `apiVersion: ${crdGroup}/v1\nkind: Widget\nmetadata: { name: w1 }\nspec: { size: 3 }\n`;
    const first = await repo.commit({
      'deploy/a.yaml': configMap('a', { v: '1' }),
      'deploy/other-ns.yaml': `${configMap('sneaky', { v: '1' })}`.replace(
        'metadata:\n',
        'metadata:\n  namespace: kube-system\n',
      ),
    });
    await createGitSync();
    let gs = await synced(first, 'InvalidManifests');
    assert.match(
      ready(gs)!.message!,
      /\[TRL_GITOPS_NAMESPACE\] deploy\/other-ns\.yaml#1: metadata\.namespace: ConfigMap "sneaky" names namespace "kube-system", outside the target namespace/,
    );
    assert.equal(await get('ConfigMap', 'a', 'v1'), undefined, 'nothing of that commit was applied');

    // A CRD and an object of its kind in one commit: refused while cluster-scoped objects are not allowed...
    const second = await repo.commit({
      'deploy/other-ns.yaml': null,
      'deploy/widget.yaml': widget,
      'deploy/crd.yaml': crd,
    });
    await notifyPush();
    gs = await synced(second, 'InvalidManifests');
    assert.match(
      ready(gs)!.message!,
      /\[TRL_GITOPS_CLUSTER_SCOPED\] deploy\/crd\.yaml#1: CustomResourceDefinition "widgets\..*" is cluster-scoped; set spec\.allowClusterScoped/,
    );
    // What an operator does to let GitSyncs manage CRDs and widgets: grant them to the controllers' aggregated role.
    const grant = `gitops-test-${ns.name}`;
    await kube().apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: grant, labels: { 'trellis.dev/aggregate-to-controller': 'true' } },
      rules: [
        {
          apiGroups: ['apiextensions.k8s.io'],
          resources: ['customresourcedefinitions'],
          verbs: ['create', 'patch', 'update', 'delete'],
        },
        {
          apiGroups: [crdGroup],
          resources: ['widgets'],
          verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
        },
      ],
    });
    try {
      await eventually(
        async () => {
          const review = await controllerKube.create<KubeObject & { status?: { allowed?: boolean } }>({
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SelfSubjectAccessReview',
            metadata: {},
            spec: { resourceAttributes: { group: crdGroup, resource: 'widgets', verb: 'patch', namespace: ns.name } },
          });
          return review.status?.allowed === true;
        },
        { what: 'the aggregated role to grant widgets to the controller' },
      );
      // ...and applied CRD first when they are.
      await kube().patch(
        { apiVersion: 'gitops.trellis.dev/v1alpha1', kind: 'GitSync', name: 'apps', namespace: ns.name },
        { spec: { allowClusterScoped: true } },
      );
      gs = await eventually(
        async () => {
          const g = await gitSync();
          return g.status?.lastAppliedCommit === second && g;
        },
        { what: 'the CRD and the widget to be applied' },
      );
      assert.deepEqual((await get('Widget', 'w1', `${crdGroup}/v1`))?.spec, { size: 3 });
      assert.ok(gs.status!.inventory!.some((e) => e.kind === 'CustomResourceDefinition' && e.namespace === undefined));
    } finally {
      await kube().delete({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        name: `widgets.${crdGroup}`,
      });
      await kube().delete({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: grant });
    }
  });

  it('polls on its interval over file://, correcting drift, without any push', async () => {
    const first = await repo.commit({ 'deploy/a.yaml': configMap('a', { v: '1' }) });
    await kube().apply({
      apiVersion: 'gitops.trellis.dev/v1alpha1',
      kind: 'GitSync',
      metadata: { name: 'apps', namespace: ns.name },
      spec: { url: repo.fileUrl, path: 'deploy', interval: '1s' },
    });
    await synced(first);
    const second = await repo.commit({ 'deploy/a.yaml': configMap('a', { v: '2' }) });
    await synced(second);
    assert.deepEqual((await get('ConfigMap', 'a', 'v1'))?.data, { v: '2' });
    await kube().patch(
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'a', namespace: ns.name },
      { data: { v: 'edited by hand' } },
      'merge',
    );
    await kube().delete({ apiVersion: 'v1', kind: 'ConfigMap', name: 'a', namespace: ns.name });
    await eventually(
      async () => ((await get('ConfigMap', 'a', 'v1'))?.data as Record<string, string> | undefined)?.v === '2',
      { what: 'the deleted ConfigMap to be restored' },
    );
  });

  it('never shows the Git password in logs, status or Events', async () => {
    const first = await repo.commit({ 'deploy/a.yaml': configMap('a', { v: '1' }) });
    await createGitSync();
    await synced(first);
    // A wrong password: the failure is reported everywhere, the password nowhere.
    const wrong = `${auth.password}-wrong`;
    await kube().apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'git-auth', namespace: ns.name },
      stringData: { ...auth, password: wrong },
    });
    await repo.commit({ 'deploy/a.yaml': configMap('a', { v: '2' }) });
    await notifyPush();
    const gs = await eventually(
      async () => {
        const g = await gitSync();
        return g.status?.history?.[0]?.result === 'FetchFailed' && g;
      },
      { what: 'the fetch with a wrong password to fail' },
    );
    assert.match(ready(gs)!.message!, /Authentication failed/);
    const events = await eventually(
      async () => {
        const list = (await kube().list('v1', 'Event', { namespace: ns.name })).items;
        return logs.includes('sync failed') && list.some((e) => e.reason === 'FetchFailed') && list;
      },
      { what: 'the failure to be logged and recorded as an Event' },
    );
    const everything = [logs, JSON.stringify(gs), JSON.stringify(events)].join('\n');
    for (const pw of [auth.password, wrong]) {
      for (const form of [
        pw,
        Buffer.from(pw).toString('base64'),
        Buffer.from(`${auth.username}:${pw}`).toString('base64'),
      ])
        assert.ok(!everything.includes(form), `found a form of the password in the output`);
    }
  });
});
