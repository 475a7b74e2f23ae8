import assert from 'node:assert/strict';
import type { ApplicationConfiguration } from '../../../controllers/types.js';
import type { Rollout } from '../../../controllers/rollout/index.js';
import type { KubeObject } from '../../../kube/index.js';
import { trellis } from '../../support/cli.js';
import { testCluster } from '../../support/cluster.js';
import { useControllers } from '../../support/controllers.js';
import { eventually, useNamespace } from '../../support/namespace.js';
import { serveMetrics, startPrometheus, type TestPrometheus } from '../../support/prometheus.js';

const OAM = 'core.oam.dev/v1alpha2';
const WAIT = { timeoutMs: 90_000 };

describe('controllers: the rollout trait on a webservice (canary through HTTPRoute weights)', function () {
  this.timeout(300_000);
  const ns = useNamespace('ro');
  useControllers(ns);

  const kube = () => testCluster().kube;
  const component = (image: string) => ({
    apiVersion: OAM,
    kind: 'Component',
    metadata: { name: 'web', namespace: ns.name },
    spec: { workload: { type: 'webservice', properties: { image } } },
  });
  const appConfig = (rollout: Record<string, unknown>) => ({
    apiVersion: OAM,
    kind: 'ApplicationConfiguration',
    metadata: { name: 'shop', namespace: ns.name },
    spec: {
      components: [
        {
          componentName: 'web',
          traits: [{ trait: { name: 'rollout', properties: { scaleDownDelay: '1s', ...rollout } } }],
        },
      ],
    },
  });
  const get = <T extends KubeObject = KubeObject>(apiVersion: string, kind: string, name: string) =>
    kube().getOrNull<T>({ apiVersion, kind, name, namespace: ns.name });
  const rollout = () => get<Rollout>('delivery.trellis.dev/v1alpha1', 'Rollout', 'web-rollout');
  const route = (name = 'web') => get('gateway.networking.k8s.io/v1', 'HTTPRoute', name);
  /** The HTTPRoute's backend weights, by Service. */
  const weights = async (name = 'web') => {
    const rules = (
      (await route(name))?.spec as { rules?: { backendRefs?: { name: string; weight: number }[] }[] } | undefined
    )?.rules;
    return Object.fromEntries((rules?.[0]?.backendRefs ?? []).map((b) => [b.name, b.weight]));
  };
  /** Waits until the Rollout is in `phase` (and passes `also`), and the route carries `expected` weights. */
  const reach = async (
    what: string,
    phase: string,
    expected: Record<string, number>,
    also: (r: Rollout) => boolean = () => true,
  ) => {
    let seen = '';
    return eventually(
      async () => {
        const [now, w] = [await rollout(), await weights()];
        seen = `${JSON.stringify(now?.status)}; route ${JSON.stringify(w)}`;
        return now?.status?.phase === phase && also(now) && JSON.stringify(w) === JSON.stringify(expected) && now;
      },
      { ...WAIT, what: `${what}: ${phase}, route ${JSON.stringify(expected)}` },
    ).catch((err: Error) => {
      throw new Error(`${err.message} (last seen: ${seen})`);
    });
  };
  const cli = (...args: string[]) =>
    trellis([
      'rollout',
      ...args,
      'shop',
      '--component',
      'web',
      '-n',
      ns.name,
      '--kubeconfig',
      testCluster().kubeconfig,
    ]);
  const events = async (regardingName: string) =>
    (await kube().list('events.k8s.io/v1', 'Event', { namespace: ns.name })).items
      .filter((e) => (e.regarding as { name: string }).name === regardingName)
      .map((e) => `${e.type} ${e.reason}: ${e.note}`);
  const exists = async (kind: string, name: string) => !!(await get(kind === 'Service' ? 'v1' : 'apps/v1', kind, name));

  it('walks a new revision through its steps (objects and HTTPRoute weights at each), promote moves on, the old revision goes after the switch', async () => {
    await kube().apply(component('nginx:1.27'));
    await kube().apply(
      appConfig({
        steps: [
          { weight: 20, pause: {} },
          { weight: 60, pause: {} },
          { weight: 90, pause: { duration: '1s' } },
        ],
        route: { parentRefs: [{ name: 'public', namespace: 'gateways' }], hostnames: ['shop.example.com'] },
      }),
    );

    const first = await reach('v1 stable', 'Healthy', { 'web-v1': 100 }, (r) => r.status?.stableRevision === 'web-v1');
    const r1 = (await route())!;
    assert.deepEqual((r1.spec as Record<string, unknown>).parentRefs, [
      { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'gateways' },
    ]);
    assert.deepEqual((r1.spec as Record<string, unknown>).hostnames, ['shop.example.com']);
    assert.deepEqual((r1.spec as { rules: { backendRefs: unknown[] }[] }).rules[0]!.backendRefs, [
      { group: '', kind: 'Service', name: 'web-v1', port: 80, weight: 100 },
    ]);
    assert.deepEqual(
      r1.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid, o.controller]),
      [['Rollout', 'web-rollout', first.metadata.uid, true]],
    );
    assert.ok(
      (await exists('Deployment', 'web-v1')) && (await exists('Service', 'web-v1')),
      'the revision runs as web-v1 with its own Service',
    );

    await kube().apply(component('nginx:1.28'));
    const step1 = await reach(
      'step 1',
      'Paused',
      { 'web-v1': 80, 'web-v2': 20 },
      (r) => r.status?.step === '1/3' && r.status?.canaryRevision === 'web-v2',
    );
    assert.equal(step1.status?.canaryWeight, 20);
    for (const name of ['web-v1', 'web-v2'])
      assert.ok(
        (await exists('Deployment', name)) && (await exists('Service', name)),
        `${name} runs, with its Service`,
      );
    const v2 = (await get('apps/v1', 'Deployment', 'web-v2'))!;
    assert.equal(
      (v2.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels[
        'app.oam.dev/revision'
      ],
      'web-v2',
      'pods carry their revision',
    );
    const history = async () =>
      (await get<ApplicationConfiguration>(OAM, 'ApplicationConfiguration', 'shop'))?.status?.historyWorkloads?.map(
        (h) => h.workloadRef?.name,
      );
    await eventually(async () => JSON.stringify(await history()) === '["web-v1"]', {
      ...WAIT,
      what: `the stable revision in the AppConfig's historyWorkloads (${JSON.stringify(await history())})`,
    });

    const status = await cli('status');
    assert.equal(status.code, 0, status.err);
    assert.match(status.out, /Phase:\s+Paused/);
    assert.match(status.out, /Step:\s+1\/3/);
    assert.match(status.out, /Weights:\s+web-v1 80%, web-v2 20%/);
    assert.match(status.out, /Route:\s+HTTPRoute web: web-v1 80, web-v2 20/);
    assert.match(status.out, /Next:\s+promote with `trellis rollout promote shop --component web`/);
    assert.match(status.out, /^1\s+20%\s+until promoted\s+← now$/m);

    const revisions = await trellis(['revisions', 'web', '-n', ns.name, '--kubeconfig', testCluster().kubeconfig]);
    assert.match(
      revisions.out,
      /^2\s+web-v2\s+\S+\s+20% \(shop\)\s+current$/m,
      'trellis revisions: which revisions serve traffic',
    );
    assert.match(revisions.out, /^1\s+web-v1\s+\S+\s+80% \(shop\)\s+1 field$/m);

    const promoted = await cli('promote');
    assert.equal(promoted.code, 0, promoted.err);
    assert.match(promoted.out, /step 1\/3 \(20% to web-v2\) promoted; next: 60% to web-v2/);
    await reach('step 2', 'Paused', { 'web-v1': 40, 'web-v2': 60 }, (r) => r.status?.step === '2/3');
    assert.ok((await exists('Deployment', 'web-v1')) && (await exists('Deployment', 'web-v2')));

    assert.equal((await cli('promote')).code, 0);
    const done = await reach('switched', 'Healthy', { 'web-v2': 100 }, (r) => r.status?.stableRevision === 'web-v2');
    assert.equal(done.status?.canaryRevision, undefined);
    await eventually(async () => !(await exists('Deployment', 'web-v1')) && !(await exists('Service', 'web-v1')), {
      ...WAIT,
      what: 'web-v1 pruned after scaleDownDelay',
    });
    assert.ok((await exists('Deployment', 'web-v2')) && (await exists('Service', 'web-v2')));

    const onRollout = await events('web-rollout');
    for (const e of [
      /^Normal Started: rolling out web-v2/,
      /^Normal StepStarted: step 3\/3: 90% to web-v2/,
      /^Normal Promoted: step 1\/3/,
      /^Normal Completed: web-v2 takes all traffic \(all 3 steps passed\)/,
    ]) {
      assert.ok(
        onRollout.some((x) => e.test(x)),
        `${e} among\n${onRollout.join('\n')}`,
      );
    }
    const onApp = await events('shop');
    assert.ok(
      onApp.some((x) => /^Normal RolloutCompleted: component web: web-v2 takes all traffic/.test(x)),
      onApp.join('\n'),
    );
  });

  it('abort sends all traffic back to the stable revision and says so; resume tries again; pause holds a timed step', async () => {
    await kube().apply(component('nginx:1.27'));
    await kube().apply(
      appConfig({
        steps: [
          { weight: 50, pause: {} },
          { weight: 70, pause: { duration: '1s' } },
        ],
      }),
    );
    await reach('v1 stable', 'Healthy', { 'web-v1': 100 });
    await kube().apply(component('nginx:1.28'));
    await reach('step 1', 'Paused', { 'web-v1': 50, 'web-v2': 50 });

    const aborted = await cli('abort');
    assert.equal(aborted.code, 0, aborted.err);
    assert.match(aborted.out, /abort of web-v2 requested; web-v1 takes all traffic back/);
    const r = await reach('aborted', 'Aborted', { 'web-v1': 100 });
    assert.equal(r.status?.abortedRevision, 'web-v2');
    const ready = r.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.match(ready?.message ?? '', /web-v2 aborted: aborted by `trellis rollout abort`; web-v1 takes all traffic/);
    assert.ok(
      await exists('Deployment', 'web-v2'),
      'the new revision still runs (the AppConfig names it), without traffic',
    );
    assert.ok(
      (await events('web-rollout')).some((e) =>
        /^Warning Aborted: aborted by `trellis rollout abort`; web-v1 takes all traffic again/.test(e),
      ),
    );
    const again = await cli('promote');
    assert.equal(again.code, 1, 'a step promote does not undo an abort');
    assert.match(again.err, /TRL_ROLLOUT_STATE.*web-v2 was aborted: `resume` tries it again/);

    assert.equal((await cli('resume')).code, 0);
    await reach('retried', 'Paused', { 'web-v1': 50, 'web-v2': 50 }, (x) => x.status?.attempt === 2);

    const paused = await cli('pause');
    assert.equal(paused.code, 0, paused.err);
    assert.match(paused.out, /paused at step 1\/2/);
    await eventually(async () => (await rollout())?.metadata.annotations?.['delivery.trellis.dev/paused'] === 'true', {
      what: 'the pause annotation',
    });
    assert.equal((await cli('promote')).code, 0);
    const held = await reach(
      'held at step 2',
      'Paused',
      { 'web-v1': 30, 'web-v2': 70 },
      (x) => x.status?.step === '2/2',
    );
    assert.match(held.status?.message ?? '', /paused by `trellis rollout pause`/);
    assert.equal((await cli('resume')).code, 0);
    await reach('switched', 'Healthy', { 'web-v2': 100 });
  });

  it('blue-green: the new revision is reachable only on the preview route until promoted, then takes all traffic at once', async () => {
    await kube().apply(component('nginx:1.27'));
    await kube().apply(
      appConfig({
        strategy: 'blueGreen',
        blueGreen: { previewHostnames: ['preview.shop.example.com'] },
        route: { hostnames: ['shop.example.com'] },
      }),
    );
    await reach('v1 stable', 'Healthy', { 'web-v1': 100 });
    assert.equal(await route('web-preview'), undefined, 'no preview route while nothing is previewed');
    await kube().apply(component('nginx:1.28'));
    await reach('preview', 'Paused', { 'web-v1': 100, 'web-v2': 0 }, (r) => r.status?.canaryRevision === 'web-v2');
    const preview = await eventually(() => route('web-preview'), { ...WAIT, what: 'the preview route' });
    assert.deepEqual((preview.spec as { hostnames: string[] }).hostnames, ['preview.shop.example.com']);
    assert.deepEqual(await weights('web-preview'), { 'web-v2': 100 });
    assert.equal((await cli('promote')).code, 0);
    await reach('switched', 'Healthy', { 'web-v2': 100 });
    await eventually(async () => (await route('web-preview')) === undefined, {
      ...WAIT,
      what: 'the preview route deleted',
    });
  });

  describe('with analysis against a real Prometheus', () => {
    let prometheus: TestPrometheus | undefined;
    let metrics: Awaited<ReturnType<typeof serveMetrics>> | undefined;
    before(async function () {
      this.timeout(120_000);
      metrics = await serveMetrics();
      prometheus = await startPrometheus([metrics.target]);
    });
    after(async () => {
      await prometheus?.stop();
      await metrics?.close();
    });

    it('moves on while the success rate holds, and rolls back to the stable revision by itself when it does not, saying why', async () => {
      const requests = (revision: string, ok: number, failed: number) => {
        metrics!.set('http_requests_total', { revision, code: '200' }, ok);
        metrics!.set('http_requests_total', { revision, code: '500' }, failed);
      };
      requests('web-v2', 100, 0);
      requests('web-v3', 50, 50);
      await prometheus!.scrapedSince(Date.now());
      const analysis = {
        interval: '1s',
        prometheus: { address: prometheus!.url },
        metrics: [
          {
            name: 'success-rate',
            query:
              'sum(http_requests_total{revision="{{revision}}",code!~"5.."}) / sum(http_requests_total{revision="{{revision}}"})',
            min: 0.95,
          },
        ],
      };
      await kube().apply(component('nginx:1.27'));
      await kube().apply(appConfig({ steps: [{ weight: 50 }], analysis }));
      await reach('v1 stable', 'Healthy', { 'web-v1': 100 });

      await kube().apply(component('nginx:1.28'));
      const passed = await reach(
        'v2 passed',
        'Healthy',
        { 'web-v2': 100 },
        (r) => r.status?.stableRevision === 'web-v2',
      );
      assert.deepEqual(passed.status?.analysis, undefined, 'a finished rollout clears its analysis');
      assert.ok(
        (await events('web-rollout')).some((e) =>
          /^Normal Completed: web-v2 takes all traffic \(all 1 step passed\)/.test(e),
        ),
      );

      await kube().apply(component('nginx:1.29'));
      const rolledBack = await reach(
        'v3 rolled back',
        'RolledBack',
        { 'web-v2': 100 },
        (r) => r.status?.canaryRevision === 'web-v3',
      );
      assert.equal(rolledBack.status?.abortedRevision, 'web-v3');
      assert.match(
        rolledBack.status?.message ?? '',
        /web-v3 rolled back: analysis failed at step 1\/1: success-rate: 0\.5 is below the minimum 0\.95; web-v2 takes all traffic/,
      );
      assert.deepEqual(
        rolledBack.status?.analysis?.results?.map((x) => [x.name, x.phase, x.value]),
        [['success-rate', 'Failed', 0.5]],
      );
      const ready = rolledBack.status?.conditions?.find((c) => c.type === 'Ready');
      assert.deepEqual([ready?.status, ready?.reason], ['False', 'RolledBack']);
      assert.ok(
        (await events('web-rollout')).some((e) =>
          /^Warning RolledBack: analysis failed at step 1\/1: success-rate: 0\.5 is below the minimum 0\.95; web-v2 takes all traffic again/.test(
            e,
          ),
        ),
      );
      assert.ok(
        (await events('shop')).some((e) => /^Warning RolloutRolledBack: component web: analysis failed/.test(e)),
      );
      // The ApplicationConfiguration says so too: the rollout trait's health policy reads the Rollout's Ready condition.
      const app = await eventually(
        async () => {
          const a = await get<ApplicationConfiguration>(OAM, 'ApplicationConfiguration', 'shop');
          const ready = a?.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'False');
          return ready && /Rollout\/web-rollout: RolledBack/.test(ready.message ?? '') && a;
        },
        { ...WAIT, what: 'shop not Ready, naming the rollback' },
      );
      assert.match(
        app.status!.conditions!.find((c) => c.type === 'Ready')!.message ?? '',
        /Rollout\/web-rollout: RolledBack: web-v3 rolled back: analysis failed/,
      );
      const status = await cli('status');
      assert.match(status.out, /Phase:\s+RolledBack/);
      assert.match(status.out, /^success-rate\s+Failed\s+0\.5\s+.*0\.5 is below the minimum 0\.95$/m);
    });
  });
});
