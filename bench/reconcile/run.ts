/**
 * `npm run bench:reconcile`: the controller against the API server's own limit, in one run.
 *
 *   1. BENCH_RECONCILE_APPS ApplicationConfigurations (default 1000; 2 webservice components with
 *      3 traits each = 8 objects per app) are applied to an empty namespace while `trellis
 *      controller` runs as a child process (as the chart's ServiceAccount). Measured: create →
 *      every AppConfig Synced=True at its generation with every child present; the controller's
 *      per-reconcile p50/p99 (its own histogram), CPU seconds and peak RSS (its /metrics), and the
 *      peak RSS of the controller plus its CUE evaluator (a child process on the native engine, /proc).
 *   2. A full re-sync: the controller is restarted, lists all of it and reconciles every
 *      AppConfig and Component again. Measured: time until its queue is empty, and how many write
 *      requests it sent (the aim is none).
 *   3. Reference: the same child objects (rendered offline with the same render/ code) applied
 *      by a plain client with server-side apply into another namespace, 8 and 32 at a time.
 *
 * Env: BENCH_RECONCILE_APPS, BENCH_RECONCILE_CONCURRENCY (controller workers, default 8), plus the
 * test control plane's variables (TRELLIS_CONTROL_PLANE_BIN, ...).
 */
import os from 'node:os';
import { renderApplication } from '../../application/index.js';
import { builtinCatalog } from '../../definitions/index.js';
import { Informer, type KubeObject } from '../../kube/index.js';
import { mapLimit } from '../../lib/map-limit.js';
import { staticComponents } from '../../render/index.js';
import { CueEngine } from '../../cue/index.js';
import { startTestCluster, stopTestCluster } from '../../test/support/cluster.js';
import { startTrellis, type RunningCommand } from '../../test/support/trellis-cli.js';
import type { ApplicationConfiguration, Component } from '../../controllers/types.js';
import { appObjects, CHILDREN_PER_APP } from './apps.js';
import { histogramQuantile, parseMetrics, sum, type Sample } from './metrics.js';
import { descendantsRss } from './processes.js';

const N = Number(process.env.BENCH_RECONCILE_APPS ?? 1000);
const WORKERS = Number(process.env.BENCH_RECONCILE_CONCURRENCY ?? 8);
const NS = 'bench-reconcile';
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const msf = (sec: number) => (Number.isFinite(sec) ? `${(sec * 1000).toFixed(1)} ms` : 'over 10 s (the top bucket)');
const WRITE = /^(PATCH|POST|PUT|DELETE)$/;

const cluster = await startTestCluster(process.env);
const { kube } = cluster;
const out: string[] = [];
const running: RunningCommand[] = [];
const progress = (line: string) => process.stderr.write(`[bench] ${line}\n`);

async function controller() {
  const p = await startTrellis(
    ['controller', '--kubeconfig', cluster.controllerKubeconfig, '--namespace', NS, '--concurrency', String(WORKERS), '--health-addr', '127.0.0.1:0', '--log-level', 'warn'],
    /^trellis controller running as \S+ \(health and metrics on 127\.0\.0\.1:(\d+)\)/,
    { timeoutMs: 120_000 },
  );
  running.push(p);
  const port = Number(p.match[1]);
  // Peaks of the controller's RSS, of its CUE evaluator's (a child process, native engine), and of both together.
  const peak = { controller: 0, evaluator: 0, both: 0 };
  const scrape = async (): Promise<Sample[]> => {
    const [samples, evaluator] = await Promise.all([
      fetch(`http://127.0.0.1:${port}/metrics`).then(async (r) => parseMetrics(await r.text())),
      p.child.pid ? descendantsRss(p.child.pid, 'trellis-cue') : 0,
    ]);
    const controller = sum(samples, 'process_resident_memory_bytes');
    peak.controller = Math.max(peak.controller, controller);
    peak.evaluator = Math.max(peak.evaluator, evaluator);
    peak.both = Math.max(peak.both, controller + evaluator);
    return samples;
  };
  const sampler = setInterval(() => void scrape().catch(() => undefined), 500);
  return {
    scrape,
    peakRss: () => ({ ...peak }),
    running: () => p.child.exitCode === null && p.child.signalCode === null,
    stderr: () => p.stderr(),
    async stop() {
      clearInterval(sampler);
      p.child.kill('SIGTERM');
      await p.exited;
    },
  };
}

try {
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const apps = Array.from({ length: N }, (_, i) => appObjects(NS, i));

  // Convergence is observed with watches (not by listing 1,000 objects over and over).
  const appInformer = new Informer<ApplicationConfiguration>(kube, { apiVersion: 'core.oam.dev/v1alpha2', kind: 'ApplicationConfiguration', namespace: NS, resyncMs: 0 });
  const children = Object.keys(CHILDREN_PER_APP).map((kind) => new Informer<KubeObject>(kube, { apiVersion: kind === 'Deployment' ? 'apps/v1' : kind === 'Ingress' ? 'networking.k8s.io/v1' : 'v1', kind, namespace: NS, labelSelector: 'app.oam.dev/name', resyncMs: 0 }));
  await Promise.all([appInformer.start(), ...children.map((i) => i.start())]);
  const converged = () =>
    appInformer.list().length === N &&
    appInformer.list().every((a) => a.status?.observedGeneration === a.metadata.generation && a.status?.conditions?.some((c) => c.type === 'Synced' && c.status === 'True')) &&
    children.every((i) => i.list().length === N * CHILDREN_PER_APP[i.options.kind as keyof typeof CHILDREN_PER_APP]);

  // 1. From create to Synced with every child present.
  progress(`applying ${N} applications`);
  const ctl = await controller();
  const before = await ctl.scrape();
  const t0 = performance.now();
  await mapLimit(apps.flatMap((a) => a.components), 16, (o) => kube.apply(o, { fieldManager: 'bench' }));
  await mapLimit(apps.map((a) => a.app), 16, (o) => kube.apply(o, { fieldManager: 'bench' }));
  const applied = performance.now() - t0;
  while (!converged()) await new Promise((r) => setTimeout(r, 100));
  const total = performance.now() - t0;
  const after = await ctl.scrape();
  // Let it finish what follows Synced (health turning Ready, revisions' status) before the re-sync,
  // so that the re-sync's writes are only the ones an unchanged application would cause.
  const ready = () => appInformer.list().every((a) => a.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  const settleBy = Date.now() + 300_000;
  for (;;) {
    const now = await ctl.scrape();
    if (ready() && sum(now, 'workqueue_depth') === 0 && sum(now, 'controller_runtime_active_workers') === 0) break;
    if (Date.now() > settleBy) {
      out.push(`  (not every AppConfig was Ready with an idle queue 300 s after Synced; the re-sync below may include that work)`);
      break;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const cpu = sum(after, 'process_cpu_seconds_total') - sum(before, 'process_cpu_seconds_total');
  const app = { controller: 'applicationconfiguration' };
  const reconciles = sum(after, 'controller_runtime_reconcile_total', app);
  const writes = sum(after, 'rest_client_requests_total', { method: WRITE }) - sum(before, 'rest_client_requests_total', { method: WRITE });
  const peak = ctl.peakRss();
  await ctl.stop();

  // 2. A full re-sync of the same, unchanged applications by a restarted controller.
  progress(`converged in ${s(total)}; full re-sync`);
  const t2 = performance.now();
  const again = await controller();
  let resynced: Sample[] = [];
  for (;;) {
    // A busy controller may drop a scrape (a run at load 35 saw ECONNRESET): ask again, unless it ended.
    const scraped = await again.scrape().catch((err: unknown) => {
      if (again.running()) return undefined;
      throw new Error(`the restarted controller ended: ${again.stderr().slice(-2000)}`, { cause: err });
    });
    if (!scraped) {
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    resynced = scraped;
    const done = sum(resynced, 'controller_runtime_reconcile_total', app) >= N && sum(resynced, 'controller_runtime_reconcile_total', { controller: 'component' }) >= 2 * N;
    if (done && sum(resynced, 'workqueue_depth') === 0 && sum(resynced, 'controller_runtime_active_workers') === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const resync = performance.now() - t2;
  const resyncWrites = sum(resynced, 'rest_client_requests_total', { method: WRITE });
  const resyncP99 = histogramQuantile(resynced, 'controller_runtime_reconcile_time_seconds', app, 0.99);
  await again.stop();

  // 3. Reference: the same children, rendered offline with the same code, applied by a plain client.
  progress(`re-sync took ${s(resync)}; the plain-client reference`);
  const engine = new CueEngine();
  const components = apps.flatMap((a) => a.components) as unknown as Component[];
  const latest = Object.fromEntries(components.map((c) => [c.metadata.name!, `${c.metadata.name}-v1`]));
  const source = staticComponents(components, { latestRevisions: latest });
  const definitions = builtinCatalog();
  const rendered: KubeObject[] = [];
  for (const a of apps) rendered.push(...(await renderApplication({ appConfig: a.app as unknown as ApplicationConfiguration, components: source, definitions, engine })).objects.map((o) => o.object));
  await engine.stop();
  const plain = async (ns: string, concurrency: number) => {
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const start = performance.now();
    await mapLimit(rendered, concurrency, (o) => kube.apply({ ...o, metadata: { ...o.metadata, namespace: ns } }, { fieldManager: 'bench-plain' }));
    return performance.now() - start;
  };
  const plain8 = await plain('bench-reconcile-plain-8', 8);
  const plain32 = await plain('bench-reconcile-plain-32', 32);
  const best = Math.min(plain8, plain32);

  out.push(`${N} ApplicationConfigurations (2 components × 3 traits; ${rendered.length} child objects), controller with ${WORKERS} workers:`);
  out.push(`  create → all Synced, every child present      ${s(total)}  (${(N / (total / 1000)).toFixed(0)} apps/s; the driver's applies took ${s(applied)})`);
  out.push(`  AppConfig reconciles                           ${reconciles}, p50 ${msf(histogramQuantile(after, 'controller_runtime_reconcile_time_seconds', app, 0.5))}, p99 ${msf(histogramQuantile(after, 'controller_runtime_reconcile_time_seconds', app, 0.99))}`);
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  const cpuShare = `${cpu.toFixed(1)} s CPU (${((cpu / (total / 1000)) * 100).toFixed(0)}% of a core)`;
  out.push(`  controller CPU / peak RSS                      ${cpuShare} / ${mib(peak.controller)}`);
  const evaluatorPeak = peak.evaluator ? mib(peak.evaluator) : '0: none ran, wasm engine';
  out.push(`  peak RSS, controller + its CUE evaluator       ${mib(peak.both)} (evaluator at most ${evaluatorPeak})`);
  out.push(`  controller write requests                      ${writes} (children, revisions, statuses, Events)`);
  out.push(`  full re-sync of the unchanged apps             ${s(resync)} (restart → queue empty), ${resyncWrites} write requests, reconcile p99 ${msf(resyncP99)}`);
  out.push(`  reference: plain client, 8 at a time           ${s(plain8)}`);
  out.push(`  reference: plain client, 32 at a time          ${s(plain32)}`);
  out.push(`  ratio controller / fastest plain client        ${(total / best).toFixed(2)}×`);
  for (const i of [appInformer, ...children]) await i.stop();
  for (const ns of [NS, 'bench-reconcile-plain-8', 'bench-reconcile-plain-32']) await kube.delete({ apiVersion: 'v1', kind: 'Namespace', name: ns });
  const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
  console.log(`\nreconcile — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load ${load}, ${new Date().toISOString()}`);
  console.log(out.join('\n'));
} finally {
  for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await stopTestCluster();
}
