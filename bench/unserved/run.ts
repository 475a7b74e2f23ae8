/**
 * `npm run bench:unserved`: does an AppConfig naming a kind the API server does not serve slow the
 * others down? (issue 19: five such AppConfigs held every worker and an ordinary one got no status
 * for 78 s.) In one run, with `trellis controller` as a child process (the chart's ServiceAccount,
 * BENCH_UNSERVED_WORKERS workers, default 4), per round (BENCH_UNSERVED_ROUNDS, default 5):
 *
 *   alone:  an ordinary application (a Component with a Deployment, and its AppConfig) is applied
 *           alone; measured from its create to the AppConfig's Synced=True at its generation.
 *   ready:  BENCH_UNSERVED_APPS (default 20) AppConfigs naming unserved kinds are applied at once,
 *           then the ordinary one, measured the same way; their Components (a ConfigMap each) were
 *           applied and revisioned before, so only the AppConfigs are new.
 *   burst:  the same, with their 20 Components applied in the same burst (the Component
 *           controller makes 20 revisions too, first come first served with the ordinary one's).
 *
 * `ready` and `burst` alternate order per round; medians and ranges printed, each ratio to alone with
 * alone's own spread (the aim: ≤ 1.2x or within it), how long until each of the 20 shows a condition
 * naming its kind, how many requests about the 20 fell while the ordinary one waited, the AppConfig
 * controller's reconciles (its /metrics) and the controller's requests (the API server's audit log).
 * BENCH_UNSERVED_TIMELINE=1 prints every request while each ordinary AppConfig waited;
 * BENCH_UNSERVED_PROFILE=<dir> writes the controller's CPU profile.
 */
import os from 'node:os';
import { auditTime, type AuditEvent } from '../../controlplane/index.js';
import type { ApplicationConfiguration, Component } from '../../controllers/types.js';
import { startTestCluster, stopTestCluster } from '../../test/support/cluster.js';
import { startTrellis, type RunningCommand } from '../../test/support/trellis-cli.js';
import { parseMetrics, sum, type Sample } from '../reconcile/metrics.js';

const APPS = Number(process.env.BENCH_UNSERVED_APPS ?? 20);
const ROUNDS = Number(process.env.BENCH_UNSERVED_ROUNDS ?? 5);
const WORKERS = Number(process.env.BENCH_UNSERVED_WORKERS ?? 4);
/** Set (any value): print every request the API server saw while each ordinary AppConfig waited for Synced. */
const TIMELINE = process.env.BENCH_UNSERVED_TIMELINE;
/** A folder: the controller writes a V8 CPU profile there (`--cpu-prof`). */
const PROFILE = process.env.BENCH_UNSERVED_PROFILE;
const NS = 'bench-unserved';
const OAM = 'core.oam.dev/v1alpha2';
const progress = (line: string) => process.stderr.write(`[bench] ${line}\n`);

const cluster = await startTestCluster(process.env);
const { kube } = cluster;
const running: RunningCommand[] = [];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${Math.round(x)} ms`;

const deployment = (name: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
  },
});

/** Wall-clock bounds of the last {@link timeToSynced} (for the audit timeline). */
const window = { from: 0, to: 0 };

/** Applies an ordinary application (a Component with a Deployment, its AppConfig) and resolves with the milliseconds until it is Synced at its generation. */
async function timeToSynced(name: string): Promise<number> {
  const start = performance.now();
  window.from = Date.now();
  await kube.apply({
    apiVersion: OAM,
    kind: 'Component',
    metadata: { name, namespace: NS },
    spec: { workload: deployment(name) },
  });
  await kube.apply({
    apiVersion: OAM,
    kind: 'ApplicationConfiguration',
    metadata: { name, namespace: NS },
    spec: { components: [{ componentName: name }] },
  });
  for (;;) {
    const a = await kube.get<ApplicationConfiguration>({
      apiVersion: OAM,
      kind: 'ApplicationConfiguration',
      name,
      namespace: NS,
    });
    if (
      a.status?.observedGeneration === a.metadata.generation &&
      a.status?.conditions?.some((c) => c.type === 'Synced' && c.status === 'True')
    ) {
      window.to = Date.now();
      return performance.now() - start;
    }
    if (performance.now() - start > 300_000) throw new Error(`${name} not Synced after 300 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function deleteApps(names: string[]): Promise<void> {
  await Promise.all(
    names.map((name) => kube.delete({ apiVersion: OAM, kind: 'ApplicationConfiguration', name, namespace: NS })),
  );
  for (const name of names)
    while (await kube.getOrNull({ apiVersion: OAM, kind: 'ApplicationConfiguration', name, namespace: NS }))
      await new Promise((r) => setTimeout(r, 50));
}

/** Prints the requests received between `from` and `to` (ms since the epoch): who asked what, when. */
function timeline(events: AuditEvent[], { from, to }: { from: number; to: number }): void {
  const at = (e: AuditEvent) => auditTime(e.requestReceivedTimestamp);
  const done = (e: AuditEvent) => auditTime(e.stageTimestamp);
  for (const e of events
    .filter((x) => x.verb !== 'watch' && at(x) >= from - 5 && at(x) <= to)
    .sort((a, b) => at(a) - at(b)))
    progress(
      `  +${(at(e) - from).toFixed(0).padStart(5)} ms (${(done(e) - at(e)).toFixed(0).padStart(4)} ms) ` +
        `${(e.userAgent ?? '').split(' ')[0]} ${e.verb} ${e.objectRef?.resource ?? e.requestURI}` +
        `${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''} ${e.objectRef?.name ?? ''}`,
    );
}

try {
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const controller = await startTrellis(
    [
      'controller',
      '--kubeconfig',
      cluster.controllerKubeconfig,
      '--namespace',
      NS,
      '--concurrency',
      String(WORKERS),
      '--health-addr',
      '127.0.0.1:0',
      '--log-level',
      'error',
    ],
    /^trellis controller running as \S+ \(health and metrics on 127\.0\.0\.1:(\d+)\)/,
    { timeoutMs: 120_000, nodeArgs: PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`] : [] },
  );
  running.push(controller);
  const metricsUrl = `http://127.0.0.1:${controller.match[1]}/metrics`;
  const scrape = async () => parseMetrics(await (await fetch(metricsUrl)).text());
  // What the AppConfig controller did during one measurement: reconciles (and failed ones), their total time.
  type Work = { reconciles: number; errors: number; seconds: number };
  type Phase = 'alone' | 'burst' | 'ready';
  const work: Record<Phase, Work> = {
    alone: { reconciles: 0, errors: 0, seconds: 0 },
    burst: { reconciles: 0, errors: 0, seconds: 0 },
    ready: { reconciles: 0, errors: 0, seconds: 0 },
  };
  const count = (into: Work, before: Sample[], after: Sample[]) => {
    const c = { controller: 'applicationconfiguration' };
    const delta = (name: string) => sum(after, name, c) - sum(before, name, c);
    into.reconciles += delta('controller_runtime_reconcile_total');
    into.errors += delta('controller_runtime_reconcile_errors_total');
    into.seconds += delta('controller_runtime_reconcile_time_seconds_sum');
  };
  await timeToSynced('warm-up');
  await deleteApps(['warm-up']);

  // Each its own Component (a ConfigMap workload): an object two AppConfigs render is one's, not both's.
  const component = (name: string) =>
    kube.apply({
      apiVersion: OAM,
      kind: 'Component',
      metadata: { name, namespace: NS },
      spec: { workload: { apiVersion: 'v1', kind: 'ConfigMap', data: { app: name } } },
    });
  const unservedApp = (name: string, i: number) =>
    kube.apply({
      apiVersion: OAM,
      kind: 'ApplicationConfiguration',
      metadata: { name, namespace: NS },
      spec: {
        components: [
          {
            componentName: name,
            traits: [{ trait: { apiVersion: 'nowhere.example.com/v1', kind: `Missing${i}`, metadata: { name } } }],
          },
        ],
      },
    });
  const revisioned = async (names: string[]) => {
    for (;;) {
      const list = await kube.list<Component>(OAM, 'Component', { namespace: NS });
      const done = new Set(list.items.filter((c) => c.status?.latestRevision?.name).map((c) => c.metadata.name));
      if (names.every((n) => done.has(n))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  // The controller's requests while the 20 and the ordinary one are reconciled (the API server's audit log).
  const requests: Record<Exclude<Phase, 'alone'>, Map<string, number>> = { burst: new Map(), ready: new Map() };
  const times: Record<Phase, number[]> = { alone: [], burst: [], ready: [] };
  /** From the 20's apply until each shows Synced=False naming its kind (the issue's other half). */
  const conditionTimes: Record<Exclude<Phase, 'alone'>, number[]> = { burst: [], ready: [] };
  /** Requests about the 20 (their status, Events, objects) while the ordinary AppConfig waited: background work in its way. */
  const inTheWay: Record<Exclude<Phase, 'alone'>, number[]> = { burst: [], ready: [] };
  const named = async (names: string[]) => {
    for (;;) {
      const list = await kube.list<ApplicationConfiguration>(OAM, 'ApplicationConfiguration', { namespace: NS });
      const said = new Set(
        list.items
          .filter((a) => {
            const i = names.indexOf(a.metadata.name!);
            const synced = a.status?.conditions?.find((c) => c.type === 'Synced');
            return i >= 0 && synced?.status === 'False' && synced.message?.includes(`Missing${i}`);
          })
          .map((a) => a.metadata.name),
      );
      if (names.every((n) => said.has(n))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  /**
   * One measurement beside APPS AppConfigs naming unserved kinds, applied at once just before the
   * ordinary one. `burst`: their Components are applied in the same burst (the Component controller
   * makes 20 revisions too, ahead of the ordinary one's); `ready`: their Components were applied
   * (and revisioned) before, so only the AppConfigs are new.
   */
  const besideUnserved = async (round: number, mode: 'burst' | 'ready') => {
    const names = Array.from({ length: APPS }, (_, i) => `unserved-${mode}-${round}-${i}`);
    if (mode === 'ready') {
      await Promise.all(names.map(component));
      await revisioned(names);
    }
    const before = await scrape();
    await cluster.controlPlane.clearAuditLog();
    const applied = performance.now();
    await Promise.all(
      names.map(async (name, i) => {
        if (mode === 'burst') await component(name);
        await unservedApp(name, i);
      }),
    );
    times[mode].push(await timeToSynced(`${mode}-${round}`));
    const waited = { ...window };
    count(work[mode], before, await scrape());
    await named(names);
    conditionTimes[mode].push(performance.now() - applied);
    const events = await cluster.controlPlane.auditEvents();
    const at = (e: AuditEvent) => Date.parse(e.requestReceivedTimestamp ?? '');
    inTheWay[mode].push(
      events.filter(
        (e) =>
          e.userAgent?.startsWith('trellis-controller') &&
          e.verb !== 'watch' &&
          e.objectRef?.name?.startsWith('unserved-') &&
          at(e) >= waited.from &&
          at(e) <= waited.to,
      ).length,
    );
    if (TIMELINE) timeline(events, waited);
    for (const e of events) {
      if (!e.userAgent?.startsWith('trellis-controller') || e.verb === 'watch') continue;
      const what = `${e.verb} ${e.objectRef?.resource ?? e.requestURI}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''}`;
      requests[mode].set(what, (requests[mode].get(what) ?? 0) + 1);
    }
    progress(`round ${round + 1}: beside ${APPS} unserved (${mode}) ${ms(times[mode].at(-1)!)}`);
    await deleteApps([`${mode}-${round}`, ...names]);
  };

  for (let round = 0; round < ROUNDS; round++) {
    const before = await scrape();
    times.alone.push(await timeToSynced(`alone-${round}`));
    count(work.alone, before, await scrape());
    progress(`round ${round + 1}: alone ${ms(times.alone.at(-1)!)}`);
    await deleteApps([`alone-${round}`]);
    // Alternate which of the two goes first, so neither always follows the other's clean-up.
    for (const mode of round % 2 ? (['burst', 'ready'] as const) : (['ready', 'burst'] as const))
      await besideUnserved(round, mode);
  }
  const range = (xs: number[]) => `${ms(Math.min(...xs))}–${ms(Math.max(...xs))}`;
  console.log(
    `bench:unserved — ${os.cpus().length} CPUs, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}, ${WORKERS} workers, ${ROUNDS} rounds`,
  );
  const line = (label: string, xs: number[]) =>
    console.log(`  ${label.padEnd(78)} median ${ms(median(xs))} (${range(xs)})`);
  line('reference: ordinary AppConfig alone, create → Synced', times.alone);
  line(`beside ${APPS} AppConfigs naming unserved kinds (their Components made before)`, times.ready);
  line(`beside ${APPS} AppConfigs naming unserved kinds + their Components in the same burst`, times.burst);
  // The aim: ≤ 1.2x, or within the alone run's spread.
  const [lo, hi] = [Math.min(...times.alone), Math.max(...times.alone)];
  for (const mode of ['ready', 'burst'] as const) {
    const m = median(times[mode]);
    console.log(
      `  ratio (${mode}): ${(m / median(times.alone)).toFixed(2)}x; alone spread ${(lo / median(times.alone)).toFixed(2)}` +
        `–${(hi / median(times.alone)).toFixed(2)}x; median ${m <= hi ? 'within' : 'above'} the alone range`,
    );
  }
  for (const mode of ['ready', 'burst'] as const)
    console.log(
      `  ${mode}: the ${APPS} show a condition naming their kind after median ${ms(median(conditionTimes[mode]))} ` +
        `(${range(conditionTimes[mode])}); requests about them while the ordinary one waited: ` +
        `median ${median(inTheWay[mode])} (${inTheWay[mode].join(', ')})`,
    );
  for (const [phase, w] of Object.entries(work))
    console.log(
      `  AppConfig reconciles per round, ${phase}: ${(w.reconciles / ROUNDS).toFixed(1)} ` +
        `(${(w.errors / ROUNDS).toFixed(1)} failed), ${((w.seconds * 1000) / ROUNDS).toFixed(0)} ms of reconcile time`,
    );
  for (const mode of ['ready', 'burst'] as const) {
    const perRound = [...requests[mode]]
      .sort((a, b) => b[1] - a[1])
      .map(([what, n]) => `${what} ${(n / ROUNDS).toFixed(1)}`);
    console.log(`  controller requests per round (${mode}): ${perRound.join(', ')}`);
  }
} finally {
  for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await Promise.all(running.map((p) => p.exited.catch(() => undefined)));
  await stopTestCluster();
}
