/**
 * `trellis suspend|resume|reconcile` through the built binary against the suite's API server, with
 * the controllers honouring them: a suspended ApplicationConfiguration or GitSync leaves a deleted
 * child deleted (and says so in status and an Event), resume restores it, reconcile renders and
 * applies an app the fingerprint (ADR 0008) would skip; the annotations are this CLI's own fields.
 */
import assert from 'node:assert/strict';
import { ANNOTATION_RECONCILE_REQUESTED, ANNOTATION_SUSPEND } from '../../apis/labels.js';
import type { Condition, KubeObject } from '../../kube/index.js';
import { runTrellis } from '../support/cli.js';
import { testCluster } from '../support/cluster.js';
import { useControllers } from '../support/controllers.js';
import { TestRepo } from '../support/git-repo.js';
import { eventAbout, getGitSync, syncedTo, useGitOpsController } from '../support/gitops.js';
import { eventually, useNamespace } from '../support/namespace.js';

type Reconciled = KubeObject & {
  status?: { conditions?: Condition[]; lastHandledReconcileAt?: string; syncReason?: string };
};

const kube = () => testCluster().kube;
const kubeconfig = () => testCluster().controlPlane.kubeconfigPath;
const APPCONFIG = { apiVersion: 'core.oam.dev/v1alpha2', kind: 'ApplicationConfiguration' };
const GITSYNC = { apiVersion: 'gitops.trellis.dev/v1alpha1', kind: 'GitSync' };
const condition = (o: Reconciled | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);
const configMap = (namespace: string, name: string) =>
  kube().getOrNull({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name });

/**
 * Asks for a reconcile by hand (another field manager, as `kubectl annotate` would) and waits until
 * the controller has handled it: proof that it looked at the object after what the test did before.
 */
async function handled(ref: { apiVersion: string; kind: string; namespace: string; name: string }, value: string) {
  await kube().apply(
    {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { name: ref.name, namespace: ref.namespace, annotations: { [ANNOTATION_RECONCILE_REQUESTED]: value } },
    },
    { fieldManager: 'test-probe' },
  );
  return eventually(
    async () => {
      const o = await kube().getOrNull<Reconciled>(ref);
      return o?.status?.lastHandledReconcileAt === value && o;
    },
    { what: `${ref.kind}/${ref.name} to handle reconcile request ${value}` },
  );
}

/** The field manager that owns an annotation of `obj`. */
function ownerOf(obj: KubeObject, annotation: string): string[] {
  const fields = (obj.metadata.managedFields ?? []) as { manager?: string; fieldsV1?: unknown }[];
  return fields
    .filter((m) => JSON.stringify(m.fieldsV1 ?? {}).includes(`"f:${annotation}"`))
    .map((m) => m.manager ?? '');
}

describe('trellis suspend / resume / reconcile (the built CLI, against the API server)', () => {
  describe('an ApplicationConfiguration', () => {
    const ns = useNamespace('cli-suspend');
    const controllers = useControllers(ns);
    const k = () => ['-n', ns.name, '--kubeconfig', kubeconfig()];
    const ref = () => ({ ...APPCONFIG, namespace: ns.name, name: 'shop' });
    /** Renders of this process' AppConfig controller for `reason` (one series per reason). */
    const renders = async (reason: string) => {
      const metric = await controllers.manager?.metrics.registry
        .getSingleMetric('trellis_appconfig_renders_total')
        ?.get();
      return metric?.values.find((v) => v.labels.result === 'rendered' && v.labels.reason === reason)?.value ?? 0;
    };

    beforeEach(async () => {
      await kube().apply({
        apiVersion: 'core.oam.dev/v1alpha2',
        kind: 'Component',
        metadata: { name: 'settings', namespace: ns.name },
        spec: { workload: { apiVersion: 'v1', kind: 'ConfigMap', data: { greeting: 'hello' } } },
      } as KubeObject);
      await kube().apply({
        ...APPCONFIG,
        metadata: { name: 'shop', namespace: ns.name },
        spec: { components: [{ componentName: 'settings' }] },
      } as KubeObject);
      await eventually(
        async () =>
          condition(await kube().getOrNull<Reconciled>(ref()), 'Synced')?.status === 'True' &&
          configMap(ns.name, 'settings'),
        { what: 'shop synced' },
      );
    });

    it('suspend leaves a deleted child deleted and says so; resume restores it; reconcile renders a skipped app', async () => {
      const suspend = await runTrellis(['suspend', 'shop', ...k()]);
      assert.equal(suspend.code, 0, suspend.stderr);
      assert.equal(
        suspend.stdout,
        `ApplicationConfiguration/${ns.name}/shop suspended: nothing is applied or pruned until \`trellis resume\`\n`,
      );
      const suspended = await eventually(
        async () => {
          const app = await kube().getOrNull<Reconciled>(ref());
          return condition(app, 'Suspended')?.status === 'True' && app;
        },
        { what: 'shop Suspended' },
      );
      assert.equal(suspended.status?.syncReason, 'Suspended');
      assert.match(
        condition(suspended, 'Suspended')!.message!,
        /trellis\.dev\/suspend is "true".*nothing is applied or pruned/,
      );
      assert.deepEqual(ownerOf(suspended, ANNOTATION_SUSPEND), ['trellis-reconcile']);
      assert.match(await eventAbout(ns.name, 'Suspended', 'shop'), /^suspended \(/);

      // Drift while suspended stays: the controller looks (it handles a request) and restores nothing.
      await kube().delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns.name, name: 'settings' });
      await handled(ref(), 'probe-1');
      assert.equal(await configMap(ns.name, 'settings'), undefined, 'a suspended app does not restore its child');

      const refused = await runTrellis(['reconcile', 'shop', ...k()]);
      assert.equal(refused.code, 1);
      assert.match(
        refused.stderr,
        /^error: \[TRL_RECONCILE_SUSPENDED\] ApplicationConfiguration\/\S+\/shop: is suspended .*trellis resume shop/,
      );
      assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace');

      const resume = await runTrellis(['resume', 'shop', ...k()]);
      assert.equal(resume.code, 0, resume.stderr);
      assert.match(
        resume.stderr,
        /resumed, reconcile requested at .*\n◎ waiting for ApplicationConfiguration\/\S+\/shop to be reconciled\n/,
      );
      assert.match(resume.stdout, /^✔ ApplicationConfiguration\/\S+\/shop reconciled: Synced=True/);
      assert.ok(await configMap(ns.name, 'settings'), 'resume restored the deleted child');
      const resumed = (await kube().getOrNull<Reconciled>(ref()))!;
      assert.equal(condition(resumed, 'Suspended'), undefined);
      assert.equal(resumed.metadata.annotations?.[ANNOTATION_SUSPEND], undefined);
      assert.ok(resumed.metadata.annotations?.[ANNOTATION_RECONCILE_REQUESTED], 'our request stays, under our manager');
      assert.match(await eventAbout(ns.name, 'Resumed', 'shop'), /reconciling again/);

      // Nothing changed since: a pass would skip rendering; `trellis reconcile` renders and applies all the same.
      const before = await renders('forced');
      const reconcile = await runTrellis(['reconcile', 'shop', ...k()]);
      assert.equal(reconcile.code, 0, reconcile.stderr);
      assert.match(reconcile.stdout, /^✔ ApplicationConfiguration\/\S+\/shop reconciled: Synced=True Ready=True/);
      assert.ok((await renders('forced')) > before, 'reconcile rendered although the fingerprint was unchanged');
    });

    it('names what it cannot find or parse, with no stack trace', async () => {
      const missing = await runTrellis(['reconcile', 'nope', ...k()]);
      assert.equal(missing.code, 1);
      assert.equal(
        missing.stderr,
        `error: [TRL_STATUS_NOT_FOUND] ApplicationConfiguration/${ns.name}/nope: no such ApplicationConfiguration or Application\n`,
      );
      const gitsync = await runTrellis(['suspend', 'gitsync/nope', ...k()]);
      assert.equal(gitsync.code, 1);
      assert.equal(gitsync.stderr, `error: [TRL_STATUS_NOT_FOUND] GitSync/${ns.name}/nope: no such GitSync\n`);
      const kind = await runTrellis(['resume', 'gitsynk/shop', ...k()]);
      assert.equal(kind.code, 2);
      assert.match(
        kind.stderr,
        /^error: unknown kind "gitsynk" \(did you mean "gitsync"\?\): appconfig, application or gitsync\n/,
      );
      const timeout = await runTrellis(['reconcile', 'shop', '--timeout', 'soon', ...k()]);
      assert.equal(timeout.code, 2);
      assert.match(timeout.stderr, /^error: --timeout soon is not a duration/);
    });
  });

  describe('with no controller running', () => {
    const ns = useNamespace('cli-reconcile-idle');

    it('reconcile gives up after --timeout, saying the request was not handled and what to check', async () => {
      await kube().apply({
        ...APPCONFIG,
        metadata: { name: 'idle', namespace: ns.name },
        spec: { components: [] },
      } as KubeObject);
      const r = await runTrellis([
        'reconcile',
        'appconfig/idle',
        '--timeout',
        '1s',
        '-n',
        ns.name,
        '--kubeconfig',
        kubeconfig(),
      ]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /\n?error: \[TRL_RECONCILE_TIMEOUT\] ApplicationConfiguration\/\S+\/idle: the controller did not handle the reconcile request within 1 s \(no status yet\): is the Trellis controller running\?/,
      );
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    });
  });

  describe('a GitSync', () => {
    const ns = useNamespace('cli-suspend-gs');
    useGitOpsController(ns);
    let repo: TestRepo;
    beforeEach(async () => {
      repo = await TestRepo.create();
    });
    afterEach(async () => {
      await repo.cleanup();
    });

    it('suspend gitsync/<name> stops drift correction; resume applies again', async () => {
      const commit = await repo.commit({
        'deploy/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-git\ndata: { v: "1" }\n',
      });
      await kube().apply({
        ...GITSYNC,
        metadata: { name: 'apps', namespace: ns.name },
        spec: { url: repo.fileUrl, path: 'deploy', interval: '10m' },
      } as KubeObject);
      await syncedTo(ns.name, commit);
      const k = ['-n', ns.name, '--kubeconfig', kubeconfig()];

      const suspend = await runTrellis(['suspend', 'gitsync/apps', ...k]);
      assert.equal(suspend.code, 0, suspend.stderr);
      await eventually(async () => condition(await getGitSync(ns.name), 'Suspended')?.status === 'True', {
        what: 'apps Suspended',
      });
      assert.match(await eventAbout(ns.name, 'Suspended'), /^suspended \(trellis\.dev\/suspend/);
      await kube().delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns.name, name: 'from-git' });
      await handled({ ...GITSYNC, namespace: ns.name, name: 'apps' }, 'probe-1');
      assert.equal(await configMap(ns.name, 'from-git'), undefined, 'a suspended GitSync does not restore its object');

      const resume = await runTrellis(['resume', 'apps', '--kind', 'gitsync', ...k]);
      assert.equal(resume.code, 0, resume.stderr);
      assert.match(resume.stdout, /^✔ GitSync\/\S+\/apps reconciled: .*Ready=True/);
      assert.ok(await configMap(ns.name, 'from-git'), 'resume applied the deleted object again');
      assert.equal(condition(await getGitSync(ns.name), 'Suspended'), undefined);
    });
  });
});
