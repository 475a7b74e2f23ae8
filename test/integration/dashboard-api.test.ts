import assert from 'node:assert/strict';
import type { ApplicationConfiguration } from '../../controllers/types.js';
import { Dashboard } from '../../dashboard/server.js';
import type { KubeClient, KubeObject } from '../../kube/index.js';
import { silentLogger } from '../../lib/log.js';
import { CHART_NAMESPACE, renderChart } from '../support/chart.js';
import { startTrellis } from '../support/cli.js';
import { testCluster } from '../support/cluster.js';
import { applyComponentRevision } from '../support/components.js';
import { useControllers } from '../support/controllers.js';
import { eventually, useNamespace } from '../support/namespace.js';

type Deployment = KubeObject & { spec: { template: { spec: { containers: { image: string }[] } } } };

/** A browser-like client of the dashboard's JSON API: keeps the CSRF cookie, sends the token header. */
class ApiClient {
  cookie = '';
  token = '';
  constructor(
    readonly url: string,
    readonly headers: Record<string, string> = {},
  ) {}

  async session(): Promise<{ mode: string; user?: { username: string }; csrfToken: string }> {
    const r = await fetch(new URL('api/session', this.url), { headers: this.headers });
    assert.equal(r.status, 200, await r.clone().text());
    this.cookie = r.headers.get('set-cookie')!.split(';')[0]!;
    const body = (await r.json()) as { mode: string; csrfToken: string };
    this.token = body.csrfToken;
    return body;
  }

  async get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const r = await fetch(new URL(path, this.url), { headers: this.headers });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  }

  async rollback(
    path: string,
    body: unknown,
    { token = this.token, cookie = this.cookie }: { token?: string; cookie?: string } = {},
  ): Promise<{ status: number; body: { message?: string; error?: { code: string; message: string } } }> {
    const r = await fetch(new URL(path, this.url), {
      method: 'POST',
      headers: {
        ...this.headers,
        'content-type': 'application/json',
        ...(token ? { 'x-trellis-csrf': token } : {}),
        ...(cookie ? { cookie } : {}),
      },
      body: JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as { message?: string } };
  }
}

/**
 * The README quickstart's `web` (webservice) in `shop`, with two revisions (nginx:1.27, then 1.28),
 * run by the controllers: after it, shop runs web-v2 and its Deployment has nginx:1.28.
 */
export function useShopWithTwoRevisions(ns: { name: string }) {
  const component = (image: string) => ({
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'Component',
    metadata: { name: 'web', namespace: ns.name },
    spec: { workload: { type: 'webservice', properties: { image, port: 80 } } },
  });
  const deploymentImage = async (kube: KubeClient) => {
    const app = await kube.get<ApplicationConfiguration>({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ApplicationConfiguration',
      name: 'shop',
      namespace: ns.name,
    });
    const ref = app.status?.workloads?.find((w) => w.componentName === 'web')?.workloadRef;
    if (!ref || ref.kind !== 'Deployment') return undefined;
    const d = await kube.getOrNull<Deployment>({ ...ref, namespace: ns.name });
    return d?.spec.template.spec.containers[0]?.image;
  };
  beforeEach(async () => {
    const { kube } = testCluster();
    await kube.apply(component('nginx:1.27'));
    await kube.apply({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ApplicationConfiguration',
      metadata: { name: 'shop', namespace: ns.name },
      spec: { components: [{ componentName: 'web' }] },
    });
    await eventually(async () => (await deploymentImage(kube)) === 'nginx:1.27', {
      what: 'web-v1 deployed',
      timeoutMs: 90_000,
    });
    await applyComponentRevision(kube, component('nginx:1.28'), 'web-v2');
    await eventually(async () => (await deploymentImage(kube)) === 'nginx:1.28', {
      what: 'web-v2 deployed',
      timeoutMs: 90_000,
    });
  });
  return { deploymentImage };
}

/** A Role in `namespace` letting `subject` read what the dashboard shows, and optionally patch AppConfigs. */
export async function grantDashboardUse(
  kube: KubeClient,
  namespace: string,
  roleName: string,
  subject: { kind: 'User' | 'ServiceAccount'; name: string; namespace?: string },
  patch: boolean,
): Promise<void> {
  const read = ['get', 'list', 'watch'];
  await kube.apply({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: roleName, namespace },
    rules: [
      {
        apiGroups: ['core.oam.dev'],
        resources: ['applicationconfigurations'],
        verbs: patch ? [...read, 'patch'] : read,
      },
      { apiGroups: ['core.oam.dev'], resources: ['components'], verbs: read },
      { apiGroups: ['apps'], resources: ['controllerrevisions', 'deployments'], verbs: read },
      { apiGroups: [''], resources: ['events', 'services'], verbs: read },
      { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: read },
    ],
  });
  await kube.apply({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: roleName, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
    subjects: [
      subject.kind === 'User'
        ? { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: subject.name }
        : { kind: 'ServiceAccount', name: subject.name, namespace: subject.namespace },
    ],
  });
}

describe("dashboard API (CLI mode: the user's kubeconfig): revisions, diff, rollback with RBAC and CSRF", () => {
  const ns = useNamespace();
  useControllers(ns);
  const shop = useShopWithTwoRevisions(ns);
  const dashboards: Dashboard[] = [];
  afterEach(async () => {
    for (const d of dashboards.splice(0)) await d.stop();
  });
  const start = async (kube: KubeClient) => {
    const dashboard = new Dashboard({ kube, logger: silentLogger, namespace: ns.name });
    dashboards.push(dashboard);
    await dashboard.start();
    return new ApiClient(dashboard.url);
  };

  it('an allowed user sees the revisions and their diff, and rolls back: the Deployment runs the old image', async () => {
    const { kube } = testCluster();
    const user = `alice-${ns.name}`;
    await grantDashboardUse(kube, ns.name, 'dashboard-alice', { kind: 'User', name: user }, true);
    const api = await start(kube.impersonate(user));
    const session = await api.session();
    assert.equal(session.mode, 'cli');
    assert.equal(session.user?.username, user);

    const apps = await api.get('api/apps');
    assert.deepEqual(
      (apps.body.items as { name: string; ready: string }[]).map((a) => [a.name, a.ready]),
      [['shop', 'True']],
    );
    const app = await api.get(`api/apps/${ns.name}/shop`);
    assert.equal(app.status, 200);
    assert.deepEqual(app.body.permissions, { rollback: true });
    const [web] = app.body.components as { name: string; revision: string; workload: { kind: string } }[];
    assert.equal(web?.revision, 'web-v2');
    assert.equal(web?.workload.kind, 'Deployment');

    const revisions = await api.get(`api/apps/${ns.name}/shop/components/web/revisions`);
    assert.equal(revisions.status, 200);
    assert.deepEqual(
      (revisions.body.revisions as { name: string; current: boolean; image: string }[]).map((r) => [
        r.name,
        r.current,
        r.image,
      ]),
      [
        ['web-v2', true, 'nginx:1.28'],
        ['web-v1', false, 'nginx:1.27'],
      ],
    );
    const diff = await api.get(`api/apps/${ns.name}/shop/components/web/diff?from=web-v2&to=1`);
    assert.deepEqual(diff.body, {
      from: 'web-v2',
      to: 'web-v1',
      changes: [{ path: 'spec.workload.properties.image', before: 'nginx:1.28', after: 'nginx:1.27' }],
    });
    const unknown = await api.get(`api/apps/${ns.name}/shop/components/web/diff?to=web-v9`);
    assert.equal(unknown.status, 404);
    assert.match((unknown.body.error as { message: string }).message, /no revision "web-v9".*it has: web-v1, web-v2/);

    const rolled = await api.rollback(`api/apps/${ns.name}/shop/rollback`, { component: 'web' });
    assert.equal(rolled.status, 200, JSON.stringify(rolled.body));
    assert.equal(
      rolled.body.message,
      `ApplicationConfiguration/${ns.name}/shop: component web pinned to web-v1 (was web-v2)`,
    );
    await eventually(async () => (await shop.deploymentImage(kube)) === 'nginx:1.27', {
      what: 'the Deployment back on nginx:1.27',
      timeoutMs: 90_000,
    });
    const wrong = await api.rollback(`api/apps/${ns.name}/shop/rollback`, { component: 'web', to: 'v7' });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error?.code, 'TRL_ROLLBACK_REVISION');
  });

  it('a user who may not patch sees rollback: false and gets 403 naming what is missing; nothing changes', async () => {
    const { kube } = testCluster();
    const user = `bob-${ns.name}`;
    await grantDashboardUse(kube, ns.name, 'dashboard-bob', { kind: 'User', name: user }, false);
    const api = await start(kube.impersonate(user));
    await api.session();
    const app = await api.get(`api/apps/${ns.name}/shop`);
    assert.equal(app.status, 200);
    assert.equal((app.body.permissions as { rollback: boolean }).rollback, false);
    const refused = await api.rollback(`api/apps/${ns.name}/shop/rollback`, { component: 'web' });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error?.code, 'FORBIDDEN');
    assert.match(
      refused.body.error!.message,
      new RegExp(`"${user}" cannot patch resource "applicationconfigurations"`),
    );
    assert.equal(await shop.deploymentImage(kube), 'nginx:1.28');
    const spec = await kube.get<ApplicationConfiguration>({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ApplicationConfiguration',
      name: 'shop',
      namespace: ns.name,
    });
    assert.deepEqual(spec.spec?.components, [{ componentName: 'web' }]);
  });

  it('refuses a rollback without the CSRF token, with a wrong one, without the cookie, or from another origin (403)', async () => {
    const api = await start(testCluster().kube);
    await api.session();
    const path = `api/apps/${ns.name}/shop/rollback`;
    const other = new ApiClient(api.url);
    await other.session(); // a valid token of another session: header and cookie must be the same one
    for (const [what, options] of [
      ['no header', { token: '' }],
      ['no cookie', { cookie: '' }],
      ['a forged token', { token: 'abc.def', cookie: 'trellis_csrf=abc.def' }],
      ['header and cookie of different sessions', { token: other.token }],
    ] as const) {
      const r = await api.rollback(path, { component: 'web' }, options);
      assert.equal(r.status, 403, what);
      assert.equal(r.body.error?.code, 'CSRF', what);
    }
    const cross = await fetch(new URL(path, api.url), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        origin: 'http://evil.example',
        'x-trellis-csrf': api.token,
        cookie: api.cookie,
      },
      body: '{"component":"web"}',
    });
    assert.equal(cross.status, 403);
    assert.equal(await shop.deploymentImage(testCluster().kube), 'nginx:1.28');
  });
});

type PodSpec = { serviceAccountName: string; containers: { args: string[] }[] };
const RBAC_KINDS = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

/** A bearer token of ServiceAccount `namespace/name` (TokenRequest): a user as an authenticating proxy would send it. */
async function tokenOf(kube: KubeClient, namespace: string, name: string): Promise<string> {
  await kube.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
  const path = await kube.path({ apiVersion: 'v1', kind: 'ServiceAccount', namespace, name }, 'token');
  const review = await kube.request<{ status: { token: string } }>(path, {
    method: 'POST',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
  });
  return review.status.token;
}

describe("dashboard in the cluster (chart dashboard.enabled): the chart's ServiceAccount, users by bearer token", () => {
  const ns = useNamespace();
  useControllers(ns);
  const shop = useShopWithTwoRevisions(ns);

  it('answers 401 without a token; a user allowed to patch rolls back, one who may not sees no button and gets 403', async function () {
    this.timeout(240_000);
    const { kube, helm, controlPlane } = testCluster();
    // The chart's dashboard identity, exactly as rendered, and its Deployment's arguments.
    const objects = await renderChart(helm, { 'dashboard.enabled': true });
    const mine = objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'dashboard');
    for (const o of mine.filter((o) => RBAC_KINDS.has(o.kind))) await kube.apply(o);
    const deployment = mine.find((o) => o.kind === 'Deployment') as KubeObject & {
      spec: { template: { spec: PodSpec } };
    };
    const pod = deployment.spec.template.spec;
    const kubeconfig = await controlPlane.kubeconfigForServiceAccount(CHART_NAMESPACE, pod.serviceAccountName);
    const args = pod.containers[0]!.args.map((a) =>
      a.replace(/^--address=.*/, '--address=127.0.0.1').replace(/^--port=\d+$/, '--port=0'),
    );
    assert.ok(args.includes('--authenticate'));

    const alice = await tokenOf(kube, ns.name, 'alice');
    const bob = await tokenOf(kube, ns.name, 'bob');
    await grantDashboardUse(
      kube,
      ns.name,
      'dashboard-alice',
      { kind: 'ServiceAccount', name: 'alice', namespace: ns.name },
      true,
    );
    await grantDashboardUse(
      kube,
      ns.name,
      'dashboard-bob',
      { kind: 'ServiceAccount', name: 'bob', namespace: ns.name },
      false,
    );

    const { child, match } = await startTrellis([...args, '--kubeconfig', kubeconfig], /dashboard: (http:\/\/\S+)/);
    try {
      const url = match[1]!;
      const anonymous = await fetch(new URL('api/apps', url));
      assert.equal(anonymous.status, 401);
      assert.equal(((await anonymous.json()) as { error: { code: string } }).error.code, 'UNAUTHENTICATED');
      const forged = await fetch(new URL('api/apps', url), { headers: { authorization: 'Bearer not-a-token' } });
      assert.equal(forged.status, 401);

      const asAlice = new ApiClient(url, { authorization: `Bearer ${alice}` });
      const asBob = new ApiClient(url, { authorization: `Bearer ${bob}` });
      assert.deepEqual(await asAlice.session().then((s) => [s.mode, s.user?.username]), [
        'chart',
        `system:serviceaccount:${ns.name}:alice`,
      ]);
      await asBob.session();

      // Both may read shop (their Role lets them); only alice may patch it.
      const list = await asBob.get(`api/apps?namespace=${ns.name}`);
      assert.deepEqual(
        (list.body.items as { name: string }[]).map((a) => a.name),
        ['shop'],
      );
      const bobsView = await asBob.get(`api/apps/${ns.name}/shop`);
      assert.equal(bobsView.status, 200);
      assert.equal((bobsView.body.permissions as { rollback: boolean }).rollback, false);
      const [web] = bobsView.body.components as { workload: { kind: string; health: string } }[];
      assert.equal(web?.workload.kind, 'Deployment');
      assert.notEqual(web?.workload.health, 'forbidden');
      assert.equal(
        ((await asAlice.get(`api/apps/${ns.name}/shop`)).body.permissions as { rollback: boolean }).rollback,
        true,
      );

      // Nobody sees another namespace's applications through the dashboard's own rights.
      const elsewhere = await asBob.get('api/apps?namespace=kube-system');
      assert.equal(elsewhere.status, 403);
      assert.match((elsewhere.body.error as { message: string }).message, /may not list applicationconfigurations/);

      const refused = await asBob.rollback(`api/apps/${ns.name}/shop/rollback`, { component: 'web' });
      assert.equal(refused.status, 403);
      assert.equal(
        refused.body.error?.message.startsWith(`user "system:serviceaccount:${ns.name}:bob" may not patch`),
        true,
        refused.body.error?.message,
      );
      // A token issued to alice is not bob's.
      assert.equal(
        (
          await asBob.rollback(
            `api/apps/${ns.name}/shop/rollback`,
            { component: 'web' },
            { token: asAlice.token, cookie: asAlice.cookie },
          )
        ).status,
        403,
      );
      assert.equal(await shop.deploymentImage(kube), 'nginx:1.28');

      const rolled = await asAlice.rollback(`api/apps/${ns.name}/shop/rollback`, { component: 'web' });
      assert.equal(rolled.status, 200, JSON.stringify(rolled.body));
      await eventually(async () => (await shop.deploymentImage(kube)) === 'nginx:1.27', {
        what: 'the Deployment back on nginx:1.27',
        timeoutMs: 90_000,
      });
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});
