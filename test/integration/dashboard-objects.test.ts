import assert from 'node:assert/strict';
import { cueEngineOptions } from '../../cli/cue-engine.js';
import { dashboardProvenance, type DashboardProvenance } from '../../cli/dashboard-provenance.js';
import { Dashboard } from '../../dashboard/server.js';
import type { KubeClient } from '../../kube/index.js';
import { silentLogger } from '../../lib/log.js';
import { testCluster } from '../support/cluster.js';
import { useNamespace } from '../support/namespace.js';

const READ = ['get', 'list', 'watch'];

/** A Role letting `user` read the AppConfigs and Events of `namespace`, and the Components too when `components`. */
async function grantRead(kube: KubeClient, namespace: string, user: string, components: boolean): Promise<void> {
  await kube.apply({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: user, namespace },
    rules: [
      { apiGroups: ['core.oam.dev'], resources: ['applicationconfigurations'], verbs: READ },
      { apiGroups: [''], resources: ['events'], verbs: READ },
      ...(components ? [{ apiGroups: ['core.oam.dev'], resources: ['components'], verbs: READ }] : []),
    ],
  });
  await kube.apply({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: user, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: user },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
  });
}

interface Rendered {
  object?: { kind: string; metadata: { name: string } };
  fields?: { path: string; value: unknown; origin: string }[];
  error?: { code: string; message: string };
}

/**
 * The rendered-object page's API (issue 15): `GET /api/apps/<ns>/<name>/objects?kind=&name=` renders the
 * application from the cluster's Components and definitions as the user, with `trellis render
 * --provenance`'s per-field provenance. No controllers needed: the page shows what the app renders.
 */
describe('dashboard API: a rendered object, each field with what set it (CLI mode)', () => {
  const ns = useNamespace();
  const dashboards: Dashboard[] = [];
  const renderings: DashboardProvenance[] = [];
  afterEach(async () => {
    for (const d of dashboards.splice(0)) await d.stop();
    for (const r of renderings.splice(0)) await r.stop();
  });
  beforeEach(async () => {
    // The README quickstart's web, in this namespace.
    const { kube } = testCluster();
    await kube.apply({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'Component',
      metadata: { name: 'web', namespace: ns.name },
      spec: { workload: { type: 'webservice', properties: { image: 'nginx:1.27', port: 80 } } },
    });
    await kube.apply({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ApplicationConfiguration',
      metadata: { name: 'shop', namespace: ns.name },
      spec: {
        components: [
          {
            componentName: 'web',
            traits: [
              { trait: { name: 'scaler', properties: { replicas: 2 } } },
              { trait: { name: 'ingress', properties: { host: 'shop.localhost' } } },
            ],
          },
        ],
      },
    });
  });
  const start = async (kube: KubeClient, withProvenance = true) => {
    const rendering = dashboardProvenance(kube, cueEngineOptions(undefined, { env: process.env }));
    renderings.push(rendering);
    const dashboard = new Dashboard({
      kube,
      logger: silentLogger,
      namespace: ns.name,
      ...(withProvenance ? { provenance: rendering.provenance } : {}),
    });
    dashboards.push(dashboard);
    await dashboard.start();
    return async (query: string) => {
      const r = await fetch(new URL(`api/apps/${ns.name}/shop/objects?${query}`, dashboard.url));
      return { status: r.status, body: (await r.json()) as Rendered };
    };
  };

  it("answers the Deployment's fields: replicas from the scaler trait, the image from the image parameter", async function () {
    this.timeout(120_000);
    const { kube } = testCluster();
    const user = `carol-${ns.name}`;
    await grantRead(kube, ns.name, user, true);
    // Rendering reads the definitions (cluster-scoped) as the user, as `trellis render` would.
    const definitions = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: user },
      rules: [
        {
          apiGroups: ['core.oam.dev'],
          resources: ['workloaddefinitions', 'traitdefinitions', 'componentdefinitions', 'scopedefinitions'],
          verbs: READ,
        },
      ],
    };
    const binding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: user },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: user },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
    };
    ns.beforeDelete.push(async () => {
      await kube.delete({ apiVersion: binding.apiVersion, kind: binding.kind, name: user });
      await kube.delete({ apiVersion: definitions.apiVersion, kind: definitions.kind, name: user });
    });
    await kube.apply(definitions);
    await kube.apply(binding);
    const get = await start(kube.impersonate(user));
    const { status, body } = await get('kind=Deployment&name=web');
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.object?.kind, 'Deployment');
    const field = (path: string) => body.fields?.find((f) => f.path === path);
    assert.equal(field('spec.replicas')?.value, 2);
    assert.match(field('spec.replicas')!.origin, /parameter "replicas" of trait .*\(TraitDefinition\/scaler\)/);
    assert.equal(field('spec.template.spec.containers[0].image')?.value, 'nginx:1.27');
    assert.match(field('spec.template.spec.containers[0].image')!.origin, /parameter "image" of component "web"/);
    // Every leaf is listed once, each with an origin.
    const paths = body.fields!.map((f) => f.path);
    assert.equal(new Set(paths).size, paths.length);
    assert.ok(body.fields!.every((f) => f.origin.length > 0));

    // The Ingress the ingress trait renders has its own page; the host is the trait's parameter.
    const ingress = await get('kind=Ingress&name=web-ingress');
    assert.equal(ingress.status, 200, JSON.stringify(ingress.body));
    const host = ingress.body.fields!.find((f) => f.path === 'spec.rules[0].host');
    assert.equal(host?.value, 'shop.localhost');
    assert.match(host!.origin, /parameter "host" of trait .*\(TraitDefinition\/ingress\)/);

    // What the app does not render, and a request that names no object.
    const missing = await get('kind=Deployment&name=nope');
    assert.equal(missing.status, 404);
    assert.match(missing.body.error!.message, /renders no Deployment "nope"/);
    assert.equal((await get('kind=Deployment')).status, 400);
  });

  it('a user who may not read the Components gets 403, not a partial render', async function () {
    this.timeout(120_000);
    const { kube } = testCluster();
    const user = `dave-${ns.name}`;
    await grantRead(kube, ns.name, user, false);
    const get = await start(kube.impersonate(user));
    const { status, body } = await get('kind=Deployment&name=web');
    assert.equal(status, 403, JSON.stringify(body));
    assert.equal(body.error?.code, 'FORBIDDEN');
    assert.equal(body.fields, undefined);
  });

  it('without a renderer (the dashboard in the cluster) answers 501 saying where provenance is shown', async () => {
    const get = await start(testCluster().kube, false);
    const { status, body } = await get('kind=Deployment&name=web');
    assert.equal(status, 501);
    assert.equal(body.error?.code, 'NOT_IMPLEMENTED');
    assert.match(body.error!.message, /trellis dashboard.*trellis render --provenance/s);
  });
});
