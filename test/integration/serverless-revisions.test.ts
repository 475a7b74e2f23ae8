import assert from 'node:assert/strict';
import { testCluster } from '../support/cluster.js';
import { kubectl } from '../support/kubectl.js';
import { eventually, useNamespace } from '../support/namespace.js';
import { Load, request, startServerless, tally, testFunction } from '../support/serverless.js';
import type { KubeObject } from '../../kube/index.js';
import type { FunctionSpec } from '../../serverless/function/config.js';
import type { ServedTarget } from '../../serverless/function/traffic.js';

type Fn = KubeObject & {
  status?: {
    observedGeneration?: number;
    latestCreatedRevisionName?: string;
    latestReadyRevisionName?: string;
    traffic?: ServedTarget[];
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
};
type Rev = KubeObject & {
  spec: { number: number; env?: { name: string; value: string }[] };
  status?: { traffic?: number; desiredReplicas?: number; conditions?: { type: string; reason: string }[] };
};

/** Short windows: an idle revision is at zero within a few seconds. */
const FAST: FunctionSpec['scale'] = { stableWindowSeconds: 1, panicWindowSeconds: 0.5, idleGraceSeconds: 0.2 };
const greeting = (value: string): FunctionSpec['env'] => [{ name: 'GREETING', value }];

describe('serverless: Function revisions and traffic split (real processes, real API server)', function () {
  let runtime: Awaited<ReturnType<typeof startServerless>> | undefined;
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
  });
  const ns = useNamespace('rev');
  const fnRef = (name: string) => ({
    apiVersion: 'serverless.trellis.dev/v1alpha1',
    kind: 'Function',
    namespace: ns.name,
    name,
  });
  const revisions = async (fn: string) =>
    (
      await testCluster().kube.list<Rev>('serverless.trellis.dev/v1alpha1', 'FunctionRevision', {
        namespace: ns.name,
        labelSelector: `serverless.trellis.dev/function=${fn}`,
      })
    ).items
      .map((r) => r.metadata.name)
      .sort();
  const apply = (name: string, spec: FunctionSpec) => testCluster().kube.apply(testFunction(ns.name, name, spec));
  const status = (name: string) => testCluster().kube.get<Fn>(fnRef(name));
  const events = async (name: string, reason: string) =>
    (
      await testCluster().kube.list('v1', 'Event', { namespace: ns.name, fieldSelector: `involvedObject.name=${name}` })
    ).items
      .filter((e) => e.reason === reason)
      .map((e) => String(e.message));

  /** A Function at two ready revisions (GREETING v1, v2), both kept running by `scale.min`. */
  async function twoRevisions(name: string, traffic: FunctionSpec['traffic']): Promise<void> {
    runtime = await startServerless(ns.name, { domain: 'fn.test' });
    await apply(name, { env: greeting('v1'), scale: { ...FAST, min: 1 } });
    await eventually(async () => (await status(name)).status?.latestReadyRevisionName === `${name}-00001`, {
      what: 'revision 1 ready',
      timeoutMs: 60_000,
    });
    await apply(name, { env: greeting('v2'), scale: { ...FAST, min: 1 }, traffic });
    await eventually(async () => (await status(name)).status?.latestReadyRevisionName === `${name}-00002`, {
      what: 'revision 2 ready',
      timeoutMs: 60_000,
    });
  }

  it('makes an immutable revision for each change of what the pods run, and none for other changes', async () => {
    const { kube } = testCluster();
    runtime = await startServerless(ns.name, { domain: 'fn.test' });
    await apply('hello', { env: greeting('v1'), scale: FAST });
    await eventually(async () => (await status('hello')).status?.latestReadyRevisionName === 'hello-00001', {
      what: 'hello-00001 ready',
      timeoutMs: 60_000,
    });
    assert.equal((await request(`${runtime.url}/${ns.name}/hello/`)).body.includes('"greeting":"v1"'), true);

    await apply('hello', { env: greeting('v1'), scale: { ...FAST, max: 3 }, concurrency: { target: 10 } });
    await eventually(
      async () => (await status('hello')).metadata.generation === (await status('hello')).status?.observedGeneration,
      { what: 'the scaling change seen' },
    );
    assert.deepEqual(await revisions('hello'), ['hello-00001'], 'scaling is not what the pods run: no new revision');

    await apply('hello', { env: greeting('v2'), scale: { ...FAST, max: 3 }, concurrency: { target: 10 } });
    const fn = await eventually(
      async () => {
        const f = await status('hello');
        return (
          f.status?.latestReadyRevisionName === 'hello-00002' &&
          f.status.traffic?.[0]?.revisionName === 'hello-00002' &&
          f
        );
      },
      { what: 'hello-00002 ready and serving', timeoutMs: 60_000 },
    );
    assert.deepEqual(fn.status?.traffic, [{ revisionName: 'hello-00002', latestRevision: true, percent: 100 }]);
    assert.equal(fn.status?.latestCreatedRevisionName, 'hello-00002');
    assert.deepEqual(await revisions('hello'), ['hello-00001', 'hello-00002']);
    await eventually(
      async () => JSON.parse((await request(`${runtime!.url}/${ns.name}/hello/`)).body).greeting === 'v2',
      { what: 'v2 answering' },
    );
    assert.ok(
      (await events('hello', 'RevisionCreated')).some((m) => /created revision hello-00002: env changed/.test(m)),
    );

    // Immutable: the API server refuses an edit.
    await assert.rejects(
      kube.patch(
        {
          apiVersion: 'serverless.trellis.dev/v1alpha1',
          kind: 'FunctionRevision',
          namespace: ns.name,
          name: 'hello-00001',
        },
        { spec: { image: 'other' } },
      ),
      /a FunctionRevision is immutable/,
    );
    // The revision without traffic goes to zero on its own; kubectl shows the revisions with their columns.
    const zero = await eventually(
      async () => {
        const r = await kube.get<Rev>({
          apiVersion: 'serverless.trellis.dev/v1alpha1',
          kind: 'FunctionRevision',
          namespace: ns.name,
          name: 'hello-00001',
        });
        return r.status?.conditions?.find((c) => c.type === 'Ready')?.reason === 'ScaledToZero' && r;
      },
      { what: 'hello-00001 scaled to zero', timeoutMs: 60_000 },
    );
    assert.equal(zero.status?.traffic, 0);
    const table = await kubectl(['get', 'fnrev', '-n', ns.name]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^NAME\s+FUNCTION\s+GENERATION\s+TRAFFIC\s+TAGS\s+READY\s+DESIRED\s+STATUS\s+AGE/m);
    assert.match(table.stdout, /^hello-00001\s+hello\s+1\s+0\s+0\s+0\s+ScaledToZero\s/m, 'no tags: an empty column');
    assert.match(
      table.stdout,
      /^hello-00002\s+hello\s+2\s+100\s+[01]\s+[01]\s+(Serving|ScaledToZero)\s/m,
      'serving everything (an instance, or at zero)',
    );
  });

  it('splits 90/10 by weight: of 10,000 requests the new revision answers 10 % (± 2 points), none fails', async function () {
    // 10,000 requests through the activator: 50 s of mocha's 120 s default in a loaded CI run.
    this.timeout(300_000);
    await twoRevisions('split', [
      { revisionName: 'split-00001', percent: 90 },
      { revisionName: 'split-00002', percent: 10 },
    ]);
    await eventually(async () => (await status('split')).status?.traffic?.length === 2, { what: 'the split served' });
    const { by, failures } = tally(
      await new Load(() => `${runtime!.url}/${ns.name}/split/`, 20, {}, 10_000).start().done(),
    );
    assert.deepEqual(failures, []);
    assert.equal((by.v1 ?? 0) + (by.v2 ?? 0), 10_000);
    const share = (100 * (by.v2 ?? 0)) / 10_000;
    assert.ok(Math.abs(share - 10) <= 2, `the new revision's share is ${share} %`);
  });

  it('switches to 0/100 and back under load without losing a request; requests in flight finish on their revision', async () => {
    const { kube } = testCluster();
    await twoRevisions('switch', [
      { revisionName: 'switch-00001', percent: 100 },
      { revisionName: 'switch-00002', percent: 0 },
    ]);
    const load = new Load(() => `${runtime!.url}/${ns.name}/switch/sleep?ms=20`, 16).start();
    const slow = request(`${runtime!.url}/${ns.name}/switch/sleep?ms=1500`);
    const split = (a: number, b: number) =>
      kube.apply(
        testFunction(ns.name, 'switch', {
          env: greeting('v2'),
          scale: { ...FAST, min: 1 },
          traffic: [
            { revisionName: 'switch-00001', percent: a },
            { revisionName: 'switch-00002', percent: b },
          ],
        }),
      );
    const seen = async (g: string) => {
      const from = load.outcomes.length;
      await eventually(
        async () =>
          load.outcomes.slice(from).filter((o) => o.greeting === g).length >= 50 &&
          load.outcomes.slice(-20).every((o) => o.greeting === g),
        { what: `only ${g} answering`, timeoutMs: 30_000 },
      );
    };
    await eventually(async () => load.outcomes.length > 50, { what: 'load flowing' });
    await split(0, 100);
    await seen('v2');
    assert.equal(
      JSON.parse((await slow).body).greeting,
      'v1',
      'the request in flight when the split changed finished on revision 1',
    );
    await split(100, 0);
    await seen('v1');
    const { by, failures } = tally(await load.stop());
    assert.deepEqual(failures, [], 'no request lost');
    assert.ok((by.v1 ?? 0) > 100 && (by.v2 ?? 0) > 50, `both revisions answered: ${JSON.stringify(by)}`);
  });

  it('gives a tag its own address (Host and path) that reaches only its revision', async () => {
    await twoRevisions('tagged', [
      { revisionName: 'tagged-00001', percent: 100 },
      { revisionName: 'tagged-00002', tag: 'canary' },
    ]);
    const fn = await eventually(
      async () => {
        const f = await status('tagged');
        return f.status?.traffic?.some((t) => t.tag === 'canary') && f;
      },
      { what: 'the tag served' },
    );
    const canary = fn.status!.traffic!.find((t) => t.tag === 'canary')!;
    assert.equal(canary.url, `http://canary-tagged.${ns.name}.fn.test`);
    const byHost = tally(
      await new Load(() => `${runtime!.url}/`, 4, { host: `canary-tagged.${ns.name}.fn.test` }, 200).start().done(),
    );
    const byPath = tally(await new Load(() => `${runtime!.url}/${ns.name}/canary-tagged/`, 4, {}, 200).start().done());
    const main = tally(await new Load(() => `${runtime!.url}/${ns.name}/tagged/`, 4, {}, 200).start().done());
    assert.deepEqual(byHost.by, { v2: 200 });
    assert.deepEqual(byPath.by, { v2: 200 });
    assert.deepEqual(main.by, { v1: 200 }, "the 0 % tagged revision gets nothing through the Function's own address");
  });

  it('keeps serving the last good split when spec.traffic names a revision that does not exist, and says why', async () => {
    await twoRevisions('keep', [{ revisionName: 'keep-00001', percent: 100 }]);
    await apply('keep', {
      env: greeting('v2'),
      scale: { ...FAST, min: 1 },
      traffic: [{ revisionName: 'keep-00009', percent: 100 }],
    });
    const fn = await eventually(
      async () => {
        const f = await status('keep');
        return f.status?.conditions?.find((c) => c.type === 'Ready')?.reason === 'TrafficInvalid' && f;
      },
      { what: 'Ready=False TrafficInvalid' },
    );
    assert.match(
      fn.status!.conditions!.find((c) => c.type === 'Ready')!.message,
      /spec\.traffic\[0\]\.revisionName: there is no revision keep-00009 of Function keep \(it has keep-00001, keep-00002\); still serving the previous split/,
    );
    assert.deepEqual(fn.status?.traffic, [{ revisionName: 'keep-00001', percent: 100 }]);
    assert.equal(JSON.parse((await request(`${runtime!.url}/${ns.name}/keep/`)).body).greeting, 'v1');
    await eventually(async () => (await events('keep', 'TrafficInvalid')).length > 0, {
      what: 'a TrafficInvalid Event',
    });
  });

  it('keeps a bounded history: idle revisions beyond revisionHistoryLimit go once they run no instance', async () => {
    runtime = await startServerless(ns.name, { domain: 'fn.test' });
    for (let v = 1; v <= 4; v++) {
      await apply('gc', { env: greeting(`v${v}`), scale: FAST, revisionHistoryLimit: 1 });
      await eventually(async () => (await status('gc')).status?.latestReadyRevisionName === `gc-0000${v}`, {
        what: `gc-0000${v} ready`,
        timeoutMs: 60_000,
      });
    }
    await eventually(async () => JSON.stringify(await revisions('gc')) === JSON.stringify(['gc-00003', 'gc-00004']), {
      what: 'only gc-00004 (serving) and gc-00003 (history of 1) left',
      timeoutMs: 60_000,
    });
    assert.ok((await events('gc', 'RevisionDeleted')).some((m) => /deleted revision gc-00001/.test(m)));
    const { kube } = testCluster();
    assert.deepEqual(
      (await kube.list('apps/v1', 'Deployment', { namespace: ns.name })).items.map((d) => d.metadata.name).sort(),
      ['gc-00003', 'gc-00004'],
      'their Deployments went with them',
    );
    // Numbers are never reused.
    await apply('gc', { env: greeting('v5'), scale: FAST, revisionHistoryLimit: 1 });
    await eventually(async () => (await status('gc')).status?.latestCreatedRevisionName === 'gc-00005', {
      what: 'gc-00005',
    });
  });
});
