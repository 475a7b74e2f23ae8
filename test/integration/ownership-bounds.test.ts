import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { ApplicationConfiguration } from '../../controllers/types.js';
import type { KubeObject } from '../../kube/index.js';
import { trellis } from '../support/cli.js';
import { testCluster } from '../support/cluster.js';
import { useControllers } from '../support/controllers.js';
import { getGitSync, syncedTo, useGitOpsController } from '../support/gitops.js';
import { TestRepo } from '../support/git-repo.js';
import { kubectl } from '../support/kubectl.js';
import { eventually, useNamespace } from '../support/namespace.js';
import { startServerless, testFunction } from '../support/serverless.js';
import { startTestWebhook, type TestWebhook } from '../support/webhook.js';

const OAM = 'core.oam.dev/v1alpha2';
const kube = () => testCluster().kube;
const yaml = (...docs: object[]) => docs.map((d) => stringify(d)).join('---\n');
const deploymentWorkload = (name: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  spec: {
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'nginx:1.27' }] } },
  },
});
/** A trait rendering a ConfigMap in the namespace its `ns` property names (none: the application's). */
const exporter = (name: string, annotations: Record<string, string> = {}): KubeObject => ({
  apiVersion: OAM,
  kind: 'TraitDefinition',
  metadata: { name, annotations },
  spec: {
    schematic: {
      cue: {
        template:
          'parameter: { ns: *"" | string }\noutputs: report: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "\\(context.name)-report", if parameter.ns != "" { namespace: parameter.ns } }, data: from: context.namespace }\n',
      },
    },
  },
});
const appWithExporter = (namespace: string, trait: string, ns: string) => ({
  apiVersion: OAM,
  kind: 'ApplicationConfiguration',
  metadata: { name: 'leaky', namespace },
  spec: { components: [{ componentName: 'web', traits: [{ trait: { name: trait, properties: { ns } } }] }] },
});
const configMaps = async (namespace: string) =>
  (await kube().list('v1', 'ConfigMap', { namespace })).items
    .map((c) => c.metadata.name)
    .filter((n) => n !== 'kube-root-ca.crt');
/** The Synced condition, with Trellis' own reason (`status.syncReason`; the condition carries upstream's). */
const syncedCondition = async (namespace: string, name: string) => {
  const app = await kube().get<ApplicationConfiguration>({
    apiVersion: OAM,
    kind: 'ApplicationConfiguration',
    name,
    namespace,
  });
  const c = app.status?.conditions?.find((x) => x.type === 'Synced');
  return c && { ...c, reason: app.status?.syncReason };
};

describe('bounds: nothing outside the application, refused with the field named', () => {
  const ns = useNamespace('bounds');
  const other = useNamespace('elsewhere');
  useControllers(ns);
  const trait = `exporter-${Math.random().toString(16).slice(2, 8)}`;
  afterEach(() => kube().delete({ apiVersion: OAM, kind: 'TraitDefinition', name: trait }));

  it('a trait output aimed at another namespace: Synced=False naming object, namespace and definition; nothing created anywhere', async () => {
    await kube().apply(exporter(trait));
    await kube().apply({
      apiVersion: OAM,
      kind: 'Component',
      metadata: { name: 'web', namespace: ns.name },
      spec: { workload: deploymentWorkload('web') },
    });
    await kube().apply(appWithExporter(ns.name, trait, other.name));
    const synced = await eventually(
      async () => {
        const c = await syncedCondition(ns.name, 'leaky');
        return c?.reason === 'RenderFailed' && c;
      },
      { what: 'RenderFailed', timeoutMs: 60_000 },
    );
    assert.equal(
      synced.message,
      `[TRL_RENDER_NAMESPACE] ConfigMap/web-report: metadata.namespace: asks for namespace "${other.name}" outside the application's namespace "${ns.name}", which TraitDefinition/${trait} may not write to; nothing was created — an operator may allow it with the annotation trellis.dev/allowed-namespaces: "${other.name}" on TraitDefinition/${trait}`,
    );
    assert.deepEqual(await configMaps(other.name), []);
    assert.deepEqual(await configMaps(ns.name), []);
    assert.equal(
      await kube().getOrNull({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: ns.name }),
      undefined,
      'nothing of the application was created',
    );
  });

  it('an operator allows a definition another namespace: created there, and deleted with the AppConfig', async () => {
    await kube().apply(exporter(trait, { 'trellis.dev/allowed-namespaces': `monitoring, ${other.name}` }));
    await kube().apply({
      apiVersion: OAM,
      kind: 'Component',
      metadata: { name: 'web', namespace: ns.name },
      spec: { workload: deploymentWorkload('web') },
    });
    await kube().apply(appWithExporter(ns.name, trait, other.name));
    const report = await eventually(
      () => kube().getOrNull({ apiVersion: 'v1', kind: 'ConfigMap', name: 'web-report', namespace: other.name }),
      { what: 'the report in the other namespace', timeoutMs: 60_000 },
    );
    assert.equal(
      report.metadata.annotations?.['trellis.dev/owner'],
      `ApplicationConfiguration.core.oam.dev/${ns.name}/leaky`,
    );
    assert.equal(report.metadata.ownerReferences, undefined, 'an owner reference cannot cross namespaces');
    await eventually(async () => (await syncedCondition(ns.name, 'leaky'))?.status === 'True', { what: 'Synced' });
    const app = await kube().get({
      apiVersion: OAM,
      kind: 'ApplicationConfiguration',
      name: 'leaky',
      namespace: ns.name,
    });
    assert.ok(app.metadata.finalizers?.includes('trellis.dev/outside-namespace'));
    await kube().delete({ apiVersion: OAM, kind: 'ApplicationConfiguration', name: 'leaky', namespace: ns.name });
    await eventually(
      async () =>
        !(await kube().getOrNull({ apiVersion: 'v1', kind: 'ConfigMap', name: 'web-report', namespace: other.name })),
      { what: 'the report deleted with the AppConfig', timeoutMs: 60_000 },
    );
    await eventually(
      async () =>
        !(await kube().getOrNull({
          apiVersion: OAM,
          kind: 'ApplicationConfiguration',
          name: 'leaky',
          namespace: ns.name,
        })),
      { what: 'the AppConfig gone' },
    );
  });

  it('a GitSync whose path leaves the repository is refused when applied, naming spec.path', async () => {
    for (const bad of ['../other', '/etc', 'deploy/../../x', '..']) {
      const r = await kubectl(['apply', '-n', ns.name, '-f', '-'], {
        input: yaml({
          apiVersion: 'gitops.trellis.dev/v1alpha1',
          kind: 'GitSync',
          metadata: { name: 'escape' },
          spec: { url: 'https://example.com/repo.git', path: bad },
        }),
      });
      assert.equal(r.code, 1, `${bad}: ${r.stdout}`);
      assert.equal(
        r.stderr.trim(),
        `The GitSync "escape" is invalid: spec.path: Invalid value: "${bad}": [TRL_GITOPS_PATH_ESCAPE] must stay inside the repository: a relative path without '..' segments`,
      );
    }
    const fine = await kubectl(['apply', '-n', ns.name, '-f', '-'], {
      input: yaml({
        apiVersion: 'gitops.trellis.dev/v1alpha1',
        kind: 'GitSync',
        metadata: { name: 'inside' },
        spec: { url: 'https://example.com/repo.git', path: 'deploy/..backup/x', suspend: true },
      }),
    });
    assert.equal(fine.code, 0, fine.stderr);
  });

  it('`trellis apply` does not change what an AppConfig holds: it names the owner, applies the rest, and exits 1', async () => {
    await kube().apply({
      apiVersion: OAM,
      kind: 'Component',
      metadata: { name: 'web', namespace: ns.name },
      spec: { workload: deploymentWorkload('web') },
    });
    await kube().apply({
      apiVersion: OAM,
      kind: 'ApplicationConfiguration',
      metadata: { name: 'shop', namespace: ns.name },
      spec: { components: [{ componentName: 'web' }] },
    });
    const before = await eventually(
      () => kube().getOrNull({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: ns.name }),
      { what: 'web', timeoutMs: 60_000 },
    );
    const dir = await mkdtemp(path.join(os.tmpdir(), 'trellis-own-'));
    try {
      const hand = {
        ...deploymentWorkload('web'),
        metadata: { name: 'web' },
        spec: { ...deploymentWorkload('web').spec, replicas: 9 },
      };
      await writeFile(
        path.join(dir, 'all.yaml'),
        yaml(hand, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mine' }, data: { a: '1' } }),
      );
      const r = await trellis([
        'apply',
        '-f',
        dir,
        '--timeout',
        '0',
        '--kubeconfig',
        testCluster().kubeconfig,
        '-n',
        ns.name,
      ]);
      assert.equal(r.code, 1);
      assert.match(
        r.err,
        new RegExp(
          `^\\[TRL_OWNERSHIP_CONFLICT\\] Deployment/${ns.name}/web: is controlled by ApplicationConfiguration/${ns.name}/shop, which would undo a change made here`,
          'm',
        ),
      );
      assert.match(r.out, new RegExp(`ConfigMap/${ns.name}/mine applied`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const after = await kube().get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: ns.name });
    assert.equal((after.spec as { replicas?: number }).replicas, (before.spec as { replicas?: number }).replicas);
  });
});

describe('bounds: at admission, through kubectl and the webhook', () => {
  const ns = useNamespace('boundsadm');
  let webhook: TestWebhook;
  const trait = `exporter-${Math.random().toString(16).slice(2, 8)}`;
  before(async () => {
    webhook = await startTestWebhook(kube());
  });
  after(async () => {
    await webhook?.stop();
    await kube().delete({ apiVersion: OAM, kind: 'TraitDefinition', name: trait });
    await kube().delete({ apiVersion: OAM, kind: 'TraitDefinition', name: `${trait}-fixed` });
  });

  it('refuses an AppConfig whose trait would write into another namespace, and a definition that always would', async () => {
    assert.equal((await kubectl(['apply', '-f', '-'], { input: yaml(exporter(trait)) })).code, 0);
    await kube().apply({
      apiVersion: OAM,
      kind: 'Component',
      metadata: { name: 'web', namespace: ns.name },
      spec: { workload: deploymentWorkload('web') },
    });
    const r = await kubectl(['apply', '-n', ns.name, '-f', '-'], {
      input: yaml(appWithExporter(ns.name, trait, 'kube-system')),
    });
    assert.equal(r.code, 1, r.stdout);
    assert.match(
      r.stderr,
      /admission webhook "validate-applicationconfigurations\.core\.oam\.dev" denied the request: .*\[TRL_RENDER_NAMESPACE\] ConfigMap\/web-report: metadata\.namespace: asks for namespace "kube-system" outside the application's namespace/,
    );
    assert.match(r.stderr, new RegExp(`TraitDefinition/${trait} may not write to`));
    assert.equal(
      await kube().getOrNull({ apiVersion: OAM, kind: 'ApplicationConfiguration', name: 'leaky', namespace: ns.name }),
      undefined,
    );

    // A template that always writes elsewhere is refused when the definition itself is applied.
    const fixed: KubeObject = {
      ...exporter(`${trait}-fixed`),
      spec: {
        schematic: {
          cue: {
            template:
              'outputs: report: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "r", namespace: "kube-system" } }\n',
          },
        },
      },
    };
    const d = await kubectl(['apply', '-f', '-'], { input: yaml(fixed) });
    assert.equal(d.code, 1, d.stdout);
    assert.match(
      d.stderr,
      /denied the request: \[TRL_ADMISSION_EXAMPLE\] TraitDefinition\/.*-fixed: .*does not render: ConfigMap\/r: metadata\.namespace: asks for namespace "kube-system"/,
    );
    const allowed = await kubectl(['apply', '-f', '-'], {
      input: yaml({
        ...fixed,
        metadata: { ...fixed.metadata, annotations: { 'trellis.dev/allowed-namespaces': 'kube-system' } },
      }),
    });
    assert.equal(allowed.code, 0, allowed.stderr);
  });
});

describe('bounds: GitSync refuses what someone else holds, the same way', () => {
  const ns = useNamespace('gsown');
  useControllers(ns);
  useGitOpsController(ns);
  let repo: TestRepo;
  beforeEach(async () => (repo = await TestRepo.create()));
  afterEach(() => repo.cleanup());

  it('names an object made by hand and one an AppConfig holds, leaves both as they are, and applies the rest', async () => {
    assert.equal((await kubectl(['create', 'configmap', 'handmade', '--from-literal=a=hand', '-n', ns.name])).code, 0);
    await kube().apply({
      apiVersion: OAM,
      kind: 'Component',
      metadata: { name: 'web', namespace: ns.name },
      spec: { workload: deploymentWorkload('web') },
    });
    await kube().apply({
      apiVersion: OAM,
      kind: 'ApplicationConfiguration',
      metadata: { name: 'shop', namespace: ns.name },
      spec: { components: [{ componentName: 'web' }] },
    });
    const web = await eventually(
      () => kube().getOrNull({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: ns.name }),
      { what: 'web', timeoutMs: 60_000 },
    );
    const hand = (await kube().get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'handmade', namespace: ns.name }))!;
    const commit = await repo.commit({
      'deploy/handmade.yaml': yaml({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'handmade' },
        data: { a: 'git' },
      }),
      'deploy/web.yaml': yaml({
        ...deploymentWorkload('web'),
        metadata: { name: 'web' },
        spec: { ...deploymentWorkload('web').spec, replicas: 4 },
      }),
      'deploy/mine.yaml': yaml({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mine' }, data: { a: 'git' } }),
    });
    await kube().apply({
      apiVersion: 'gitops.trellis.dev/v1alpha1',
      kind: 'GitSync',
      metadata: { name: 'apps', namespace: ns.name },
      spec: { url: repo.fileUrl, path: 'deploy', interval: '10m' },
    });
    const gs = await syncedTo(ns.name, commit, 'OwnershipConflict');
    const ready = gs.status!.conditions!.find((c) => c.type === 'Ready')!;
    assert.equal(ready.status, 'False');
    assert.equal(ready.reason, 'OwnershipConflict');
    assert.match(
      ready.message!,
      new RegExp(
        `\\[TRL_OWNERSHIP_CONFLICT\\] ConfigMap/${ns.name}/handmade: exists and is not controlled by GitSync/${ns.name}/apps: it was made by hand \\(field manager "kubectl-create"\\)`,
      ),
    );
    assert.match(
      ready.message!,
      new RegExp(
        `\\[TRL_OWNERSHIP_CONFLICT\\] Deployment/${ns.name}/web: exists and is not controlled by GitSync/${ns.name}/apps: it is controlled by ApplicationConfiguration/${ns.name}/shop`,
      ),
    );
    assert.equal(
      (await kube().get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'handmade', namespace: ns.name })).metadata
        .resourceVersion,
      hand.metadata.resourceVersion,
    );
    const webAfter = await kube().get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: ns.name });
    assert.equal((webAfter.spec as { replicas?: number }).replicas, (web.spec as { replicas?: number }).replicas);
    assert.deepEqual(
      (await kube().get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'mine', namespace: ns.name })).data,
      { a: 'git' },
    );
    assert.equal((await getGitSync(ns.name))?.status?.lastAppliedCommit, commit);
  });
});

describe('bounds: the Function controller refuses what someone else holds', () => {
  let runtime: Awaited<ReturnType<typeof startServerless>> | undefined;
  // Registered before useNamespace: the runtime stops before its namespace is deleted.
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
  });
  const ns = useNamespace('fnown');

  it('leaves a Service made by hand under the name of a Function as it is, and says so in Ready', async () => {
    assert.equal((await kubectl(['create', 'service', 'clusterip', 'hello', '--tcp=80:8080', '-n', ns.name])).code, 0);
    const hand = await kube().get({ apiVersion: 'v1', kind: 'Service', name: 'hello', namespace: ns.name });
    runtime = await startServerless(ns.name);
    await kube().apply(testFunction(ns.name, 'hello'));
    const ready = await eventually(
      async () => {
        const fn = await kube().get<
          KubeObject & { status?: { conditions?: { type: string; reason?: string; message?: string }[] } }
        >({ apiVersion: 'serverless.trellis.dev/v1alpha1', kind: 'Function', name: 'hello', namespace: ns.name });
        const c = fn.status?.conditions?.find((x) => x.type === 'Ready');
        return c?.reason === 'OwnershipConflict' && c;
      },
      { what: 'Ready=False OwnershipConflict', timeoutMs: 60_000 },
    );
    assert.match(
      ready.message!,
      new RegExp(
        `^\\[TRL_OWNERSHIP_CONFLICT\\] Service/${ns.name}/hello: exists and is not controlled by Function/${ns.name}/hello: it was made by hand \\(field manager "kubectl-create"\\)`,
      ),
    );
    const after = await kube().get({ apiVersion: 'v1', kind: 'Service', name: 'hello', namespace: ns.name });
    assert.equal(after.metadata.resourceVersion, hand.metadata.resourceVersion);
  });
});
