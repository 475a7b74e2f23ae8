/**
 * `npm run bench:unserved`: does an AppConfig naming a kind the API server does not serve slow the
 * others down? (issue 19: five such AppConfigs held every worker and an ordinary one got no status
 * for 78 s.) In one run, with `trellis controller` as a child process (the chart's ServiceAccount,
 * BENCH_UNSERVED_WORKERS workers, default 4):
 *
 *   reference: an ordinary application (a Component with a Deployment, and its AppConfig) is applied
 *              alone; measured from its create to the AppConfig's Synced=True at its generation.
 *   measured:  BENCH_UNSERVED_APPS (default 20) AppConfigs naming unserved kinds are applied at once,
 *              then an ordinary AppConfig; measured the same way, while the 20 are present (and
 *              retried with backoff).
 *
 * Each is repeated BENCH_UNSERVED_ROUNDS times (default 5), alternating; medians and ranges printed.
 */
import os from 'node:os';
import type { ApplicationConfiguration } from '../../controllers/types.js';
import { startTestCluster, stopTestCluster } from '../../test/support/cluster.js';
import { startTrellis, type RunningCommand } from '../../test/support/trellis-cli.js';
import { parseMetrics, sum, type Sample } from '../reconcile/metrics.js';

const APPS = Number(process.env.BENCH_UNSERVED_APPS ?? 20);
const ROUNDS = Number(process.env.BENCH_UNSERVED_ROUNDS ?? 5);
const WORKERS = Number(process.env.BENCH_UNSERVED_WORKERS ?? 4);
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

/** Applies an ordinary application (a Component with a Deployment, its AppConfig) and resolves with the milliseconds until it is Synced at its generation. */
async function timeToSynced(name: string): Promise<number> {
  const start = performance.now();
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
    )
      return performance.now() - start;
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
  const work = { alone: { reconciles: 0, errors: 0, seconds: 0 }, beside: { reconciles: 0, errors: 0, seconds: 0 } };
  const count = (into: typeof work.alone, before: Sample[], after: Sample[]) => {
    const c = { controller: 'applicationconfiguration' };
    const delta = (name: string) => sum(after, name, c) - sum(before, name, c);
    into.reconciles += delta('controller_runtime_reconcile_total');
    into.errors += delta('controller_runtime_reconcile_errors_total');
    into.seconds += delta('controller_runtime_reconcile_time_seconds_sum');
  };
  await timeToSynced('warm-up');
  await deleteApps(['warm-up']);

  // The controller's requests while the 20 and the ordinary one are reconciled (the API server's audit log).
  const requests = new Map<string, number>();
  const alone: number[] = [];
  const beside: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let before = await scrape();
    alone.push(await timeToSynced(`alone-${round}`));
    count(work.alone, before, await scrape());
    progress(`round ${round + 1}: alone ${ms(alone.at(-1)!)}`);
    await deleteApps([`alone-${round}`]);
    const names = Array.from({ length: APPS }, (_, i) => `unserved-${round}-${i}`);
    before = await scrape();
    await cluster.controlPlane.clearAuditLog();
    // Each its own Component (a ConfigMap workload): an object two AppConfigs render is one's, not both's.
    await Promise.all(
      names.map(async (name, i) => {
        await kube.apply({
          apiVersion: OAM,
          kind: 'Component',
          metadata: { name, namespace: NS },
          spec: { workload: { apiVersion: 'v1', kind: 'ConfigMap', data: { app: name } } },
        });
        await kube.apply({
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
      }),
    );
    beside.push(await timeToSynced(`beside-${round}`));
    count(work.beside, before, await scrape());
    for (const e of await cluster.controlPlane.auditEvents()) {
      if (!e.userAgent?.startsWith('trellis-controller') || e.verb === 'watch') continue;
      const what = `${e.verb} ${e.objectRef?.resource ?? e.requestURI}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''}`;
      requests.set(what, (requests.get(what) ?? 0) + 1);
    }
    progress(`round ${round + 1}: beside ${APPS} unserved ${ms(beside.at(-1)!)}`);
    await deleteApps([`beside-${round}`, ...names]);
  }
  const range = (xs: number[]) => `${ms(Math.min(...xs))}–${ms(Math.max(...xs))}`;
  console.log(
    `bench:unserved — ${os.cpus().length} CPUs, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}, ${WORKERS} workers, ${ROUNDS} rounds`,
  );
  console.log(
    `  reference: ordinary AppConfig alone, create → Synced         median ${ms(median(alone))} (${range(alone)})`,
  );
  console.log(
    `  measured:  the same beside ${APPS} AppConfigs naming unserved kinds  median ${ms(median(beside))} (${range(beside)})`,
  );
  console.log(`  ratio: ${(median(beside) / median(alone)).toFixed(2)}x`);
  for (const [phase, w] of Object.entries(work))
    console.log(
      `  AppConfig reconciles per round, ${phase}: ${(w.reconciles / ROUNDS).toFixed(1)} ` +
        `(${(w.errors / ROUNDS).toFixed(1)} failed), ${((w.seconds * 1000) / ROUNDS).toFixed(0)} ms of reconcile time`,
    );
  const perRound = [...requests].sort((a, b) => b[1] - a[1]).map(([what, n]) => `${what} ${(n / ROUNDS).toFixed(1)}`);
  console.log(`  controller requests per round, beside: ${perRound.join(', ')}`);
} finally {
  for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await Promise.all(running.map((p) => p.exited.catch(() => undefined)));
  await stopTestCluster();
}
