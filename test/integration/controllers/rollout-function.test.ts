import assert from 'node:assert/strict';
import { activatorMetricsFrom, type Rollout } from '../../../controllers/rollout/index.js';
import type { KubeObject } from '../../../kube/index.js';
import type { FunctionSpec } from '../../../serverless/function/config.js';
import type { ServedTarget } from '../../../serverless/function/traffic.js';
import { trellis } from '../../support/cli.js';
import { testCluster } from '../../support/cluster.js';
import { useControllers } from '../../support/controllers.js';
import { eventually, useNamespace } from '../../support/namespace.js';
import { HANDLER_DIR, Load, request, startServerless, tally } from '../../support/serverless.js';

const OAM = 'core.oam.dev/v1alpha2';
const WAIT = { timeoutMs: 120_000 };
type Fn = KubeObject & {
  spec: { traffic?: { revisionName?: string; percent?: number; tag?: string }[] };
  status?: { traffic?: ServedTarget[] };
};

describe("controllers: the rollout trait on a function (its traffic split in the activator, the activator's own counters)", function () {
  this.timeout(300_000);
  const ns = useNamespace('rofn');
  let runtime: Awaited<ReturnType<typeof startServerless>> | undefined;
  let metricsUrl = '';
  beforeEach(async () => {
    runtime = await startServerless(ns.name, { domain: 'fn.test', server: { host: '127.0.0.1', port: 0 } });
    metricsUrl = `http://127.0.0.1:${runtime.manager.port}/metrics`;
  });
  ns.beforeDelete.push(async () => {
    await runtime?.close();
    runtime = undefined;
  });
  // The controller reads the activator's /metrics over HTTP, as it does in a cluster.
  useControllers(ns, { activatorMetrics: () => activatorMetricsFrom([metricsUrl])() });

  const kube = () => testCluster().kube;
  // Short windows, but grace enough for a new revision (0 % at first) to start its first instance under load.
  const FAST: FunctionSpec['scale'] = { stableWindowSeconds: 1, panicWindowSeconds: 0.5, idleGraceSeconds: 15 };
  const component = (greeting: string, extraEnv: { name: string; value: string }[] = []) => ({
    apiVersion: OAM,
    kind: 'Component',
    metadata: { name: 'hello', namespace: ns.name },
    spec: {
      workload: {
        type: 'function',
        properties: {
          handler: 'node handler.js',
          workingDir: HANDLER_DIR,
          env: [{ name: 'GREETING', value: greeting }, ...extraEnv],
          scale: FAST,
        },
      },
    },
  });
  const rollout = () =>
    kube().getOrNull<Rollout>({
      apiVersion: 'delivery.trellis.dev/v1alpha1',
      kind: 'Rollout',
      name: 'hello-rollout',
      namespace: ns.name,
    });
  const fn = () =>
    kube().get<Fn>({
      apiVersion: 'serverless.trellis.dev/v1alpha1',
      kind: 'Function',
      name: 'hello',
      namespace: ns.name,
    });
  /** `spec.traffic` as `revision=percent[#tag]` entries (the API server orders an object's keys its own way). */
  const split = (f: { spec?: Fn['spec'] } | undefined) =>
    JSON.stringify((f?.spec?.traffic ?? []).map((t) => `${t.revisionName}=${t.percent}${t.tag ? `#${t.tag}` : ''}`));
  const reach = async (
    what: string,
    phase: string,
    traffic: Fn['spec']['traffic'],
    also: (r: Rollout) => boolean = () => true,
  ) => {
    let seen = '';
    return eventually(
      async () => {
        const [r, f] = [await rollout(), await fn()];
        seen = `${JSON.stringify(r?.status)}; spec.traffic ${split(f)}`;
        return r?.status?.phase === phase && also(r) && split(f) === split({ spec: { traffic } }) && r;
      },
      { ...WAIT, what: `${what}: ${phase}, spec.traffic ${split({ spec: { traffic } })}` },
    ).catch((err: Error) => {
      throw new Error(`${err.message} (last seen: ${seen})`);
    });
  };
  const hostOf = (name: string) => ({ host: `${name}.${ns.name}.fn.test` });

  it("shifts the function's own traffic split step by step, measures the new revision from the activator, and rolls back a failing one by itself", async () => {
    const analysis = { interval: '1s', metrics: [{ name: 'success-rate', activator: 'successRate', min: 0.9 }] };
    await kube().apply(component('v1'));
    await kube().apply({
      apiVersion: OAM,
      kind: 'ApplicationConfiguration',
      metadata: { name: 'greeter', namespace: ns.name },
      spec: {
        components: [
          {
            componentName: 'hello',
            traits: [{ trait: { name: 'rollout', properties: { steps: [{ weight: 50, pause: {} }], analysis } } }],
          },
        ],
      },
    });
    await reach(
      'v1 stable',
      'Healthy',
      [{ revisionName: 'hello-00001', percent: 100 }],
      (r) => r.status?.stableRevision === 'hello-00001',
    );
    assert.equal((await fn()).metadata.name, 'hello', 'a function keeps its name: its revisions are its own');

    const load = new Load(() => `${runtime!.url}/`, 2, hostOf('hello')).start();
    let served;
    try {
      await kube().apply(component('v2'));
      const paused = await reach(
        'step 1',
        'Paused',
        [
          { revisionName: 'hello-00001', percent: 50 },
          { revisionName: 'hello-00002', percent: 50, tag: 'canary' },
        ],
        (r) => r.status?.canaryRevision === 'hello-00002',
      );
      assert.equal(paused.status?.step, '1/1');
      await eventually(async () => (await fn()).status?.traffic?.length === 2, {
        ...WAIT,
        what: 'the activators serve the split',
      });
      const measured = await eventually(
        async () => (await rollout())?.status?.analysis?.results?.find((x) => x.phase === 'Successful'),
        { ...WAIT, what: 'a passing measurement from the activator' },
      );
      assert.equal(measured.value, 1);
      const canary = await request(`${runtime!.url}/`, { headers: hostOf('canary-hello') });
      assert.equal(JSON.parse(canary.body).greeting, 'v2', 'the tag reaches the new revision only');
      const k = ['-n', ns.name, '--kubeconfig', testCluster().kubeconfig];
      const revisions = await trellis(['revisions', 'hello', ...k]);
      assert.match(
        revisions.out,
        /traffic also goes to revisions of the workload's own \(hello-00001: 50% \(greeter\); hello-00002: 50% \(greeter\)\)/,
      );
      assert.equal((await trellis(['rollout', 'promote', 'greeter', ...k])).code, 0);
      await reach(
        'switched',
        'Healthy',
        [{ revisionName: 'hello-00002', percent: 100 }],
        (r) => r.status?.stableRevision === 'hello-00002',
      );
    } finally {
      served = tally(await load.stop()).by;
    }
    assert.ok((served.v1 ?? 0) > 0 && (served.v2 ?? 0) > 0, `both revisions answered (${JSON.stringify(served)})`);

    const broken = new Load(() => `${runtime!.url}/`, 2, hostOf('hello')).start();
    try {
      await kube().apply(component('v3', [{ name: 'ANSWER_STATUS', value: '500' }]));
      const back = await reach(
        'rolled back',
        'RolledBack',
        [{ revisionName: 'hello-00002', percent: 100 }],
        (r) => r.status?.canaryRevision === 'hello-00003',
      );
      assert.match(
        back.status?.message ?? '',
        /hello-00003 rolled back: analysis failed at step 1\/1: success-rate: 0 is below the minimum 0\.9; hello-00002 takes all traffic/,
      );
      const events = (await kube().list('events.k8s.io/v1', 'Event', { namespace: ns.name })).items.map(
        (e) => `${e.type} ${e.reason}: ${e.note}`,
      );
      assert.ok(
        events.some((e) => /^Warning RolledBack: analysis failed at step 1\/1: success-rate: 0 is below/.test(e)),
        events.join('\n'),
      );
    } finally {
      await broken.stop();
    }
    // The activator learns the rolled-back split from the Function by its watch, a moment after the
    // status says RolledBack (a CI run caught half of 20 requests still on hello-00003): once it has,
    // every request goes to the stable revision.
    let after = { by: {} as Record<string, number>, failures: [] as unknown[] };
    await eventually(
      async () => {
        after = tally(await new Load(() => `${runtime!.url}/`, 2, hostOf('hello'), 20).start().done());
        return after.failures.length === 0 && after.by.v2 === 20;
      },
      { what: 'only the stable revision answering after the rollback', timeoutMs: 20_000 },
    ).catch(() => undefined);
    assert.deepEqual(
      [after.by, after.failures.length],
      [{ v2: 20 }, 0],
      'after the rollback only the stable revision answers',
    );
  });
});
