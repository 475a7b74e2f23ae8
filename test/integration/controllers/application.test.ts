import assert from 'node:assert/strict';
import path from 'node:path';
import { KUBEVELA, kubevelaDefinitions } from '../../../application/testdata/kubevela-cases.js';
import type { KubeObject } from '../../../kube/index.js';
import { trellis } from '../../support/cli.js';
import { testCluster } from '../../support/cluster.js';
import { useControllers } from '../../support/controllers.js';
import { kubectl } from '../../support/kubectl.js';
import { eventually, useNamespace } from '../../support/namespace.js';

type App = KubeObject & {
  status?: {
    status?: string;
    services?: { name: string; healthy: boolean; message: string }[];
    latestRevision?: { name: string };
    conditions?: { type: string; message?: string }[];
  };
};

/** Issue 16 on a real control plane: KubeVela's definitions, an Application, the controller under the chart's RBAC. */
describe('controllers: KubeVela Application (core.oam.dev/v1beta1)', () => {
  const ns = useNamespace();
  useControllers(ns);
  before(async () => {
    const applied = await kubectl(['apply', '-f', path.join(KUBEVELA, 'definitions')]);
    assert.equal(applied.code, 0, applied.stderr);
  });
  after(async () => {
    const names = kubevelaDefinitions().map(
      (d) =>
        `${d.kind === 'ComponentDefinition' ? 'componentdefinitions' : 'traitdefinitions'}.core.oam.dev/${d.metadata.name}`,
    );
    await kubectl(['delete', '--ignore-not-found', ...names]);
  });
  const app = (image: string, replicas: unknown): KubeObject => ({
    apiVersion: 'core.oam.dev/v1beta1',
    kind: 'Application',
    metadata: { name: 'shop', namespace: ns.name },
    spec: {
      components: [
        {
          name: 'web',
          type: 'webservice',
          properties: { image, ports: [{ port: 80, expose: true }] },
          traits: [{ type: 'scaler', properties: { replicas } }],
        },
      ],
    },
  });
  const get = (kind: string, name: string, apiVersion = 'apps/v1') =>
    testCluster().kube.getOrNull<KubeObject>({ apiVersion, kind, name, namespace: ns.name });

  it("applies the workload and traits, reports running with services[] in KubeVela's shape, and makes a revision per change", async () => {
    const { kube } = testCluster();
    await kube.apply(app('nginx:1.27', 2), { fieldManager: 'test' });
    const d = await eventually(
      async () => {
        const x = await get('Deployment', 'web');
        return (x?.spec as { replicas?: number } | undefined)?.replicas === 2 ? x : undefined;
      },
      { what: "the Deployment with the scaler's 2 replicas" },
    );
    assert.equal(d.metadata.labels!['app.oam.dev/appRevision'], 'shop-v1');
    assert.ok(await get('Service', 'web', 'v1'), 'the webservice exposes port 80');
    const running = await eventually(
      async () => {
        const a = (await get('Application', 'shop', 'core.oam.dev/v1beta1')) as App | undefined;
        return a?.status?.status === 'running' ? a : undefined;
      },
      { what: 'status.status running' },
    );
    assert.deepEqual(
      running.status!.services!.map((s) => [s.name, s.healthy, s.message]),
      [['web', true, 'Ready:2/2']],
    );
    assert.equal(running.status!.latestRevision!.name, 'shop-v1');
    await kube.apply(app('nginx:1.28', 2), { fieldManager: 'test' });
    await eventually(
      async () =>
        (
          (await get('Deployment', 'web'))?.spec as
            { template: { spec: { containers: { image: string }[] } } } | undefined
        )?.template.spec.containers[0].image === 'nginx:1.28' || undefined,
      { what: 'the new image' },
    );
    assert.ok(await get('ApplicationRevision', 'shop-v2', 'core.oam.dev/v1beta1'), 'the edit made revision 2');
  });

  it('invalid input is workflowFailed with the reason, and what runs stays as it was', async () => {
    const { kube } = testCluster();
    await kube.apply(app('nginx:1.28', 2), { fieldManager: 'test' });
    await eventually(
      async () =>
        ((await get('Deployment', 'web'))?.spec as { replicas?: number } | undefined)?.replicas === 2 || undefined,
      { what: 'the Deployment' },
    );
    await kube.apply(app('nginx:1.28', 'three'), { fieldManager: 'test' });
    const failed = await eventually(
      async () => {
        const a = (await get('Application', 'shop', 'core.oam.dev/v1beta1')) as App | undefined;
        return a?.status?.status === 'workflowFailed' ? a : undefined;
      },
      { what: 'status.status workflowFailed' },
    );
    assert.match(
      failed.status!.conditions!.find((c) => c.type === 'Synced')!.message!,
      /TRL_RENDER_PARAMETER.*Application\/.*spec\.components\[0\]\.traits\[0\]\.properties.*parameter "replicas"/,
    );
    assert.equal(
      ((await get('Deployment', 'web'))?.spec as { replicas: number }).replicas,
      2,
      'nothing running was changed',
    );
  });
  it('trellis revisions lists the revisions; trellis rollback --to v1 restores traits and properties', async () => {
    const { kube, kubeconfig } = testCluster();
    const cli = (...args: string[]) => trellis([...args, '-n', ns.name, '--kubeconfig', kubeconfig]);
    type Deployment = KubeObject & {
      spec: { replicas?: number; template: { spec: { containers: { image: string }[] } } };
    };
    const deployment = async () => (await get('Deployment', 'web')) as Deployment | undefined;
    const latest = async () =>
      ((await get('Application', 'shop', 'core.oam.dev/v1beta1')) as App | undefined)?.status?.latestRevision?.name;
    await kube.apply(app('nginx:1.27', 2), { fieldManager: 'test' });
    await eventually(async () => (await latest()) === 'shop-v1' || undefined, { what: 'revision shop-v1' });
    // v2: a component property (the image), a trait's parameter (replicas) and one more trait (labels).
    const v2 = app('nginx:1.28', 3);
    const web = (v2.spec as { components: { traits: unknown[] }[] }).components[0]!;
    web.traits.push({ type: 'labels', properties: { release: 'canary' } });
    await kube.apply(v2, { fieldManager: 'test' });
    await eventually(
      async () => {
        const d = await deployment();
        return d?.spec.replicas === 3 &&
          d.spec.template.spec.containers[0]!.image === 'nginx:1.28' &&
          d.metadata.labels?.release === 'canary'
          ? d
          : undefined;
      },
      { what: "v2's image, replicas and label on the Deployment" },
    );
    await eventually(async () => (await latest()) === 'shop-v2' || undefined, { what: 'revision shop-v2' });

    const listed = await cli('revisions', 'shop');
    assert.equal(listed.code, 0, listed.err);
    assert.match(listed.out, /^2\s+shop-v2\s+.*same spec \(latest\)$/m);
    assert.match(listed.out, /^1\s+shop-v1\s+.*\d+ fields?$/m);
    assert.match(listed.out, /rollback to shop-v1 would change/);
    assert.match(listed.out, /nginx:1\.27/);

    // A revision that is not kept: a named error, exit 1, nothing written.
    const missing = await cli('rollback', 'shop', '--to', 'v9');
    assert.equal(missing.code, 1);
    assert.match(missing.err, /TRL_ROLLBACK_REVISION.*Application\/.*\/shop.*no revision "v9".*shop-v1, shop-v2/);
    assert.doesNotMatch(missing.out + missing.err, /^\s+at /m, 'no stack trace');
    const untouched = (await get('Application', 'shop', 'core.oam.dev/v1beta1'))!;
    assert.ok(
      !(untouched.metadata.managedFields as { manager?: string }[] | undefined)?.some(
        (f) => f.manager === 'trellis-rollback',
      ),
      'nothing was written',
    );

    const rolled = await cli('rollback', 'shop', '--to', 'v1');
    assert.equal(rolled.code, 0, rolled.err);
    assert.match(rolled.out, /Application\/.*\/shop: spec rolled back to shop-v1 \(was shop-v2\)/);
    const back = await eventually(
      async () => {
        const d = await deployment();
        return d?.spec.replicas === 2 &&
          d.spec.template.spec.containers[0]!.image === 'nginx:1.27' &&
          d.metadata.labels?.release === undefined
          ? d
          : undefined;
      },
      { what: "v1's image and replicas, and no label trait, on the Deployment" },
    );
    assert.equal(back.metadata.labels!['app.oam.dev/appRevision'], 'shop-v3', 'the rollback is the next revision');
    const revisions = await kube.list<KubeObject & { spec: { application: { spec: unknown } } }>(
      'core.oam.dev/v1beta1',
      'ApplicationRevision',
      { namespace: ns.name },
    );
    const spec = (name: string) => revisions.items.find((r) => r.metadata.name === name)?.spec.application.spec;
    assert.deepEqual(spec('shop-v3'), spec('shop-v1'), "shop-v3 holds shop-v1's spec");
  });

  it('trellis suspend application/<name> leaves a deleted Service deleted (status Suspended); resume restores it', async () => {
    const { kube } = testCluster();
    await kube.apply(app('nginx:1.27', 1), { fieldManager: 'test' });
    const service = () => get('Service', 'web', 'v1');
    await eventually(service, { what: 'the Service' });
    const k = ['-n', ns.name, '--kubeconfig', testCluster().controlPlane.kubeconfigPath];
    const suspend = await trellis(['suspend', 'application/shop', ...k]);
    assert.equal(suspend.code, 0, suspend.err);
    const suspended = (a: App | undefined) => a?.status?.conditions?.find((c) => c.type === 'Suspended');
    await eventually(async () => suspended((await get('Application', 'shop', 'core.oam.dev/v1beta1')) as App), {
      what: 'condition Suspended',
    });
    await kube.delete({ apiVersion: 'v1', kind: 'Service', name: 'web', namespace: ns.name });
    // A reconcile request by hand: once handled, the controller has looked after the deletion.
    await kube.apply(
      {
        apiVersion: 'core.oam.dev/v1beta1',
        kind: 'Application',
        metadata: { name: 'shop', namespace: ns.name, annotations: { 'trellis.dev/reconcile-requested-at': 'probe' } },
      },
      { fieldManager: 'test-probe' },
    );
    await eventually(
      async () => {
        const a = (await get('Application', 'shop', 'core.oam.dev/v1beta1')) as App & {
          status?: { lastHandledReconcileAt?: string };
        };
        return a?.status?.lastHandledReconcileAt === 'probe';
      },
      { what: 'the probe handled' },
    );
    assert.equal(await service(), undefined, 'a suspended Application does not restore its Service');
    // With no kind: no AppConfig is named shop, so the Application is.
    const resume = await trellis(['resume', 'shop', ...k]);
    assert.equal(resume.code, 0, resume.err);
    assert.match(resume.out, /^✔ Application\/\S+\/shop reconciled: phase running/);
    assert.ok(await service(), 'resume restored the Service');
    assert.equal(suspended((await get('Application', 'shop', 'core.oam.dev/v1beta1')) as App), undefined);
  });

  it("passes data between components: the consumer waits for the producer's output, then runs with its value", async () => {
    const { kube } = testCluster();
    const token = 'example.com/token';
    await kube.apply(
      {
        apiVersion: 'core.oam.dev/v1beta1',
        kind: 'Application',
        metadata: { name: 'wired', namespace: ns.name },
        spec: {
          components: [
            {
              name: 'api',
              type: 'webservice',
              properties: { image: 'api:1', env: [{ name: 'DB_HOST' }, { name: 'DB_TOKEN' }] },
              inputs: [
                { from: 'db-host', parameterKey: 'properties.env[0].value' },
                { from: 'db-token', parameterKey: 'properties.env[1].value' },
              ],
            },
            {
              name: 'db',
              type: 'webservice',
              properties: { image: 'postgres:16' },
              outputs: [
                { name: 'db-host', valueFrom: `output.metadata.name + ".${ns.name}.svc.cluster.local"` },
                { name: 'db-token', valueFrom: `output.metadata.annotations["${token}"]` },
              ],
            },
          ],
        },
      },
      { fieldManager: 'test' },
    );
    // db runs; api waits for db-token, which exists once someone annotates db's Deployment.
    const waiting = await eventually(
      async () => {
        const a = (await get('Application', 'wired', 'core.oam.dev/v1beta1')) as
          (App & { status?: { workflow?: { steps?: { message?: string }[] } } }) | undefined;
        const message = a?.status?.workflow?.steps?.[0]?.message ?? '';
        return (await get('Deployment', 'db')) && /api waits for input "db-token" from db/.test(message) && a;
      },
      { what: 'db applied, api waiting for db-token' },
    );
    assert.equal(waiting.status!.status, 'runningWorkflow');
    assert.equal(await get('Deployment', 'api'), undefined, 'api is not applied before its input has a value');
    const annotated = await kubectl(['annotate', '-n', ns.name, 'deployment/db', `${token}=s3cret`]);
    assert.equal(annotated.code, 0, annotated.stderr);
    type Env = { name: string; value?: string }[];
    const api = await eventually(async () => get('Deployment', 'api'), { what: 'api applied with its inputs' });
    assert.deepEqual(
      (api.spec as { template: { spec: { containers: { env: Env }[] } } }).template.spec.containers[0]!.env,
      [
        { name: 'DB_HOST', value: `db.${ns.name}.svc.cluster.local` },
        { name: 'DB_TOKEN', value: 's3cret' },
      ],
    );
    await eventually(
      async () =>
        ((await get('Application', 'wired', 'core.oam.dev/v1beta1')) as App | undefined)?.status?.status ===
          'running' || undefined,
      { what: 'wired running' },
    );
  });
});
