/**
 * `npm run bench:reconcile`: the controller against the API server's own limit, in one run.
 *
 * The controller runs as the image runs it: the compiled CLI (`bin/trellis.js`; the npm script builds
 * first), not the sources through tsx, whose loader adds ≈ 45–50 MiB of RSS.
 *
 *   1. BENCH_RECONCILE_APPS ApplicationConfigurations (default 1000; 2 webservice components with
 *      3 traits each = 8 objects per app) are applied to an empty namespace, BENCH_RECONCILE_APPLY
 *      at a time, while no controller runs; then `trellis controller` starts as a child process (as
 *      the chart's ServiceAccount). Measured: controller start → every AppConfig Synced=True at its
 *      generation with every child present; the controller's per-reconcile p50/p99 (its own
 *      histogram), CPU seconds and peak RSS (its /metrics), and the peak RSS of the controller plus
 *      its CUE evaluator (a child process on the native engine, /proc). BENCH_RECONCILE_CREATE=running
 *      applies them with the controller running instead (as before; time from the first apply).
 *   1b. Steady state: with all of them converged, BENCH_RECONCILE_EDITS edits (default 100), one
 *      AppConfig at a time (a new image for its first component, spread over the apps). Measured: the
 *      controller's per-reconcile p50/p99 over those edits only (its histogram, before/after), and
 *      edit → Synced at the new generation with the Deployment carrying the new image, per edit.
 *   2. A full re-sync: once kube-controller-manager has rolled out every Deployment and every
 *      AppConfig's fingerprint names its children as they are (settled.ts; then 6 s idle), the
 *      controller is restarted, lists all of it and reconciles every
 *      AppConfig and Component again. Measured: time until its queue is empty, and how many write
 *      requests it sent (the aim is none).
 *      requests it sent (the aim is none; counted in the API server's audit log, Lease renewals of
 *      sharded replicas apart) and how many CUE evaluations it ran (the aim is none).
 *   3. With several replicas (`--shards`): one is killed (kill -9); measured: the time until the
 *      survivors hold its shards (the aim: within the lease duration after its last renewal).
 *   4. Reference: the same child objects (rendered offline with the same render/ code) applied
 *      by a plain client with server-side apply into another namespace, 8 and 32 at a time.
 *
 * Steps 1–3 run once per entry of BENCH_RECONCILE_REPLICAS (e.g. `1,3`: one unsharded controller,
 * then three replicas sharing BENCH_RECONCILE_SHARDS shards), each in its own namespace, so the
 * figures of 1 and 3 replicas come from the same run.
 *
 * Env: BENCH_RECONCILE_APPS (default 1000), BENCH_RECONCILE_CONCURRENCY (workers per replica,
 * default 8), BENCH_RECONCILE_APPLY (the driver's applies in flight, default 32),
 * BENCH_RECONCILE_CREATE (`stopped`, default, or `running`), BENCH_RECONCILE_EDITS (default 100),
 * BENCH_RECONCILE_CACHE_SIZES=1 (the size of each cached kind, and of its managedFields),
 * BENCH_RECONCILE_NODE_ARGS (node flags for the controllers; default the chart's `controller.nodeOptions`,
 * empty for none),
 * BENCH_RECONCILE_MEMORY_LIMIT (each controller runs with its evaluator in a memory cgroup of this
 * limit, as in its container; default the chart's `controller.resources.limits.memory`, `none` for no
 * limit — Node sizes V8's heap from the limit, test/support/memory-cgroup.ts), BENCH_RECONCILE_REPLICAS (default `1`), BENCH_RECONCILE_SHARDS (default 12),
 * BENCH_RECONCILE_REFERENCE (`0` skips step 4), BENCH_QUIET_LOAD (e.g. `3`: the steady state and the
 * re-sync wait until the 1-minute load average is below it — build the scene on a busy machine,
 * time it on a quiet one; the load at each is printed), BENCH_RECONCILE_PROFILE (a folder: the re-syncing
 * controllers write a V8 CPU profile there, `--cpu-prof`), plus the test control plane's variables
 * (TRELLIS_CONTROL_PLANE_BIN, ...).
 */
import os from 'node:os';
import { renderApplication } from '../../application/index.js';
import { builtinCatalog } from '../../definitions/index.js';
import { Informer, type KubeObject } from '../../kube/index.js';
import { auditTime, type AuditEvent } from '../../controlplane/index.js';
import { mapLimit } from '../../lib/map-limit.js';
import { staticComponents } from '../../render/index.js';
import { CueEngine } from '../../cue/index.js';
import { startTestCluster, stopTestCluster } from '../../test/support/cluster.js';
import { startTrellis, type RunningCommand } from '../../test/support/trellis-cli.js';
import type { ApplicationConfiguration, Component } from '../../controllers/types.js';
import { appObjects, CHILDREN_PER_APP } from './apps.js';
import { histogramQuantile, idle, minus, owned, parseMetrics, sum, type Sample } from './metrics.js';
import { descendantsRss, rssOf } from './processes.js';
import { cacheSizes } from './cache-size.js';
import { rolledOut, staleApps } from './settled.js';
import { waitForQuiet } from '../quiet.js';
import { chartController } from './memory-limit.js';
import { memoryCgroup, quantityBytes, type MemoryCgroup } from '../../test/support/memory-cgroup.js';

const N = Number(process.env.BENCH_RECONCILE_APPS ?? 1000);
const WORKERS = Number(process.env.BENCH_RECONCILE_CONCURRENCY ?? 8);
const REPLICAS = (process.env.BENCH_RECONCILE_REPLICAS ?? '1').split(',').map(Number);
const SHARDS = Number(process.env.BENCH_RECONCILE_SHARDS ?? 12);
const REFERENCE = process.env.BENCH_RECONCILE_REFERENCE !== '0';
const PROFILE = process.env.BENCH_RECONCILE_PROFILE;
const APPLY_INFLIGHT = Number(process.env.BENCH_RECONCILE_APPLY ?? 32);
const CREATE_STOPPED = (process.env.BENCH_RECONCILE_CREATE ?? 'stopped') !== 'running';
const EDITS = Number(process.env.BENCH_RECONCILE_EDITS ?? 100);
const CACHE_SIZES = process.env.BENCH_RECONCILE_CACHE_SIZES === '1';
const QUIET_LOAD = Number(process.env.BENCH_QUIET_LOAD ?? 0);
const CHART = await chartController();
const NODE_ARGS =
  process.env.BENCH_RECONCILE_NODE_ARGS === undefined
    ? CHART.nodeOptions
    : process.env.BENCH_RECONCILE_NODE_ARGS.split(' ').filter(Boolean);
const MEMORY_LIMIT =
  process.env.BENCH_RECONCILE_MEMORY_LIMIT === 'none'
    ? 0
    : process.env.BENCH_RECONCILE_MEMORY_LIMIT
      ? quantityBytes(process.env.BENCH_RECONCILE_MEMORY_LIMIT)
      : CHART.memoryLimit;
const LEASE_SECONDS = 15;
const NS = 'bench-reconcile';
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const msf = (sec: number) => (Number.isFinite(sec) ? `${(sec * 1000).toFixed(1)} ms` : 'over 10 s (the top bucket)');
const WRITE = /^(PATCH|POST|PUT|DELETE)$/;
const AUDIT_WRITES = new Set(['create', 'update', 'patch', 'delete']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cluster = await startTestCluster(process.env);
const { kube } = cluster;
const out: string[] = [];
const running: RunningCommand[] = [];
const cgroups: MemoryCgroup[] = [];
/** Why the controllers run without the memory limit (said once), when they do. */
let unlimited = MEMORY_LIMIT ? '' : 'BENCH_RECONCILE_MEMORY_LIMIT=none';
const progress = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** The controller's memory when its RSS (with its evaluator's) peaked, from its /metrics (bytes). */
interface PeakComposition {
  /** Seconds after the controller started. */
  seconds: number;
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
}

/** One `trellis controller` process on `ns` (sharded when `shards` > 0), with its /metrics sampled for peak RSS. */
async function controller(ns: string, identity: string, shards: number, nodeArgs: string[] = []) {
  const sharding = shards
    ? ['--shards', String(shards), '--lease-duration', String(LEASE_SECONDS), '--leader-election-id', `bench-${ns}`]
    : [];
  // Under the chart's memory limit, with its evaluator, as in the controller's container (memory-cgroup.ts).
  const made = MEMORY_LIMIT
    ? await memoryCgroup(`trellis-bench-${process.pid}-${cgroups.length}`, MEMORY_LIMIT)
    : undefined;
  const cgroup = made && 'prefix' in made ? made : undefined;
  if (made && 'unavailable' in made && !unlimited) {
    unlimited = made.unavailable;
    progress(`the controllers run without a memory limit: ${made.unavailable}`);
  }
  if (cgroup) cgroups.push(cgroup);
  const p = await startTrellis(
    [
      'controller',
      '--kubeconfig',
      cluster.controllerKubeconfig,
      '--namespace',
      ns,
      '--concurrency',
      String(WORKERS),
      '--identity',
      identity,
      ...sharding,
      '--health-addr',
      '127.0.0.1:0',
      '--log-level',
      'warn',
    ],
    /^trellis controller running as \S+ \(health and metrics on 127\.0\.0\.1:(\d+)\)/,
    // As the image runs it (compiled, not through tsx: RSS is one of the figures).
    {
      timeoutMs: 120_000,
      nodeArgs: [...NODE_ARGS, ...nodeArgs],
      built: true,
      ...(cgroup ? { prefix: cgroup.prefix } : {}),
    },
  );
  running.push(p);
  const port = Number(p.match[1]);
  // Peaks of the controller's RSS, of its CUE evaluator's (a child process, native engine), and of both together.
  const peak = { controller: 0, evaluator: 0, both: 0 };
  // What the controller's RSS held when controller + evaluator peaked: V8's heap, memory outside it, the rest.
  let atPeak: PeakComposition | undefined;
  // A new peak's RSS, waiting for the next scrape to say what the heap held around it.
  let peakPending: { seconds: number; rss: number } | undefined;
  const started = Date.now();
  let lagMax = 0;
  let last: Sample[] = [];
  let scrapedAt = 0;
  const scrape = async (): Promise<Sample[]> => {
    scrapedAt = Date.now();
    const samples = parseMetrics(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    // prom-client resets its event-loop delay histogram at every scrape: the longest delay since the
    // last scrape is the only figure that adds up over a window (the max of every scrape's).
    lagMax = Math.max(lagMax, sum(samples, 'nodejs_eventloop_lag_max_seconds'));
    if (peakPending) {
      atPeak = {
        ...peakPending,
        heapTotal: sum(samples, 'nodejs_heap_size_total_bytes'),
        heapUsed: sum(samples, 'nodejs_heap_size_used_bytes'),
        external: sum(samples, 'nodejs_external_memory_bytes'),
      };
      peakPending = undefined;
    }
    last = samples;
    return samples;
  };
  // RSS from /proc every 0.5 s (what process_resident_memory_bytes reads), /metrics every 5 s or
  // soon after a new peak: a scrape builds every series (one per AppConfig), a few ms of the
  // controller's event loop each time — every 0.5 s, 30–60 times what Prometheus asks, it was part of
  // the tail the steady state measures.
  const sample = async () => {
    const [controller, evaluator] = await Promise.all([
      p.child.pid ? rssOf(p.child.pid) : 0,
      p.child.pid ? descendantsRss(p.child.pid, 'trellis-cue') : 0,
    ]);
    peak.controller = Math.max(peak.controller, controller);
    peak.evaluator = Math.max(peak.evaluator, evaluator);
    if (controller + evaluator > peak.both) {
      peak.both = controller + evaluator;
      peakPending = { seconds: (Date.now() - started) / 1000, rss: controller };
    }
    const since = Date.now() - scrapedAt;
    if (since >= 5_000 || (peakPending && since >= 1_000)) await scrape();
  };
  const sampler = setInterval(() => void sample().catch(() => undefined), 500);
  return {
    identity,
    scrape,
    last: () => last,
    peakRss: () => ({ ...peak }),
    peakComposition: () => atPeak,
    /** The longest event-loop delay since the last call (every scrape of the sampler counted). */
    takeLagMax: () => {
      const max = lagMax;
      lagMax = 0;
      return max;
    },
    running: () => p.child.exitCode === null && p.child.signalCode === null,
    stderr: () => p.stderr(),
    /** Processes the kernel killed for the memory limit (0 without one). */
    oomKills: async () => (cgroup ? cgroup.oomKills() : 0),
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      clearInterval(sampler);
      p.child.kill(signal);
      await p.exited;
    },
  };
}
type Replica = Awaited<ReturnType<typeof controller>>;

/** Every replica's /metrics, scraped now. */
const scrapeAll = async (replicas: Replica[]) => (await Promise.all(replicas.map((r) => r.scrape()))).flat();
/**
 * {@link scrapeAll}, undefined when a busy replica dropped a scrape (a run at load 35 saw
 * ECONNRESET) while it still runs; one that ended is an error.
 */
const tryScrapeAll = (replicas: Replica[]) =>
  scrapeAll(replicas).catch((err: unknown) => {
    const ended = replicas.find((r) => !r.running());
    if (!ended) return undefined;
    throw new Error(`controller ${ended.identity} ended: ${ended.stderr().slice(-2000)}`, { cause: err });
  });
/** Writes by the controllers in the audit log (Lease writes of sharding counted apart). */
function auditWrites(events: AuditEvent[]): {
  writes: number;
  leases: number;
  byResource: string;
  serverLatency: string;
} {
  const mine = events.filter((e) => /^trellis-controller\//.test(e.userAgent ?? '') && AUDIT_WRITES.has(e.verb));
  const others = mine.filter((e) => e.objectRef?.resource !== 'leases');
  const by = new Map<string, number>();
  // The API server's own time for each write: request received → answer complete (its audit stamps, µs).
  const took = new Map<string, number[]>();
  for (const e of others) {
    const what = `${e.verb} ${e.objectRef?.resource}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''}`;
    by.set(what, (by.get(what) ?? 0) + 1);
    const ms = auditTime(e.stageTimestamp) - auditTime(e.requestReceivedTimestamp);
    if (Number.isFinite(ms)) took.set(what, [...(took.get(what) ?? []), ms]);
  }
  const quantile = (xs: number[], q: number) =>
    [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
  return {
    writes: others.length,
    leases: mine.length - others.length,
    byResource: [...by].map(([k, v]) => `${v} ${k}`).join(', '),
    serverLatency: [...took]
      .map(([what, xs]) => `${what} p50 ${quantile(xs, 0.5).toFixed(1)}, p99 ${quantile(xs, 0.99).toFixed(1)} ms`)
      .join('; '),
  };
}

/**
 * Step 1b: EDITS edits, one AppConfig at a time, each waited for (Synced at its generation, the
 * Deployment carrying the new image); lines for the report.
 */
async function steadyState(
  ctl: Replica[],
  ns: string,
  apps: ReturnType<typeof appObjects>[],
  appInformer: Informer<ApplicationConfiguration>,
  children: Informer<KubeObject>[],
): Promise<string[]> {
  progress(`steady state: ${EDITS} edits, one at a time`);
  const deployments = children.find((i) => i.options.kind === 'Deployment')!;
  await cluster.controlPlane.clearAuditLog();
  const before = await scrapeAll(ctl);
  for (const r of ctl) r.takeLagMax();
  const perEdit: number[] = [];
  const started = performance.now();
  for (let k = 0; k < EDITS; k++) {
    const { app } = apps[(k * 7919) % apps.length]!;
    const spec = app.spec as { components: { componentName: string }[] };
    const image = `example.com/web:2.${k}`;
    const edited = {
      ...app,
      spec: {
        components: spec.components.map((c, j) =>
          j ? c : { ...c, parameterValues: [{ name: 'image', value: image }] },
        ),
      },
    };
    const t = performance.now();
    const generation = (await kube.apply(edited, { fieldManager: 'bench' })).metadata.generation ?? 0;
    const name = app.metadata.name!;
    const done = () => {
      const a = appInformer.get(name, ns);
      const d = deployments.get(spec.components[0]!.componentName, ns) as
        (KubeObject & { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } }) | undefined;
      return (
        (a?.status?.observedGeneration ?? 0) >= generation &&
        !!a?.status?.conditions?.some((c) => c.type === 'Synced' && c.status === 'True') &&
        d?.spec?.template?.spec?.containers?.[0]?.image === image
      );
    };
    while (!done()) await sleep(2);
    perEdit.push(performance.now() - t);
  }
  const seconds = (performance.now() - started) / 1000;
  // prom-client resets its event-loop delay histogram at every scrape: this one covers the edits alone.
  await scrapeAll(ctl);
  const lagMax = Math.max(...ctl.map((r) => r.takeLagMax()));
  // What the last edits still cause: kube-controller-manager's status echo, reconciled after the
  // controller's coalescing delay (1 s) — counted, so the figures per edit are whole.
  await sleep(2_500);
  while (!idle(await scrapeAll(ctl), ctl.length, 0)) await sleep(250);
  const window = minus(await scrapeAll(ctl), before);
  const audit = auditWrites(await cluster.controlPlane.auditEvents());
  const app = { controller: 'applicationconfiguration' };
  const sorted = [...perEdit].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const p99 = histogramQuantile(window, 'controller_runtime_reconcile_time_seconds', app, 0.99);
  return [
    `  steady state: ${EDITS} edits, one AppConfig at a time (${N} exist), ${seconds.toFixed(1)} s`,
    `    AppConfig reconciles in that window          ${sum(window, 'controller_runtime_reconcile_total', app)}, p50 ${msf(histogramQuantile(window, 'controller_runtime_reconcile_time_seconds', app, 0.5))}, p99 ${msf(p99)} (aim < 100 ms: ${p99 < 0.1 ? 'met' : 'NOT met'})`,
    `    edit → Synced + Deployment updated, per edit p50 ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`,
    `    controller CPU in that window                ${sum(window, 'process_cpu_seconds_total').toFixed(2)} s; write requests ${sum(window, 'rest_client_requests_total', { method: WRITE })}`,
    ...perEditLines(window, audit),
    ...whereTimeGoes(window),
    `    controller event-loop delay during the edits max ${msf(lagMax)} (the longest the loop was blocked)`,
  ];
}

/**
 * The steady state per edit, independent of the machine's load: reconciles, renders, writes by
 * resource (audit log), controller CPU per edit and per reconcile.
 */
function perEditLines(window: Sample[], audit: ReturnType<typeof auditWrites>): string[] {
  const app = { controller: 'applicationconfiguration' };
  const reconciles = sum(window, 'controller_runtime_reconcile_total', app);
  const cpu = sum(window, 'process_cpu_seconds_total');
  const per = (n: number) => (n / EDITS).toFixed(2);
  const renders = sum(window, 'trellis_appconfig_renders_total', { result: 'rendered' });
  const writes = `${per(audit.writes)} (${audit.byResource || 'none'}, for ${EDITS} edits)`;
  const perEdit = ((cpu / EDITS) * 1000).toFixed(1);
  const perReconcile = ((cpu / Math.max(1, reconciles)) * 1000).toFixed(1);
  const evaluations = per(sum(window, 'trellis_cue_evaluations_total'));
  return [
    `    per edit: reconciles ${per(reconciles)}, renders ${per(renders)}, writes ${writes}`,
    `    controller CPU per edit ${perEdit} ms, per reconcile ${perReconcile} ms; CUE evaluations per edit ${evaluations}`,
    `    the API server's own time per write (audit)  ${audit.serverLatency || 'none'}`,
  ];
}

/**
 * Where a steady-state reconcile's wall time goes, from the window's histograms: renders vs skips,
 * each phase (`trellis_appconfig_reconcile_phase_seconds`), the wait in the queue before it, the
 * requests it sent by verb and their latency, and the controller's garbage collection.
 */
function whereTimeGoes(window: Sample[]): string[] {
  const q = (name: string, match: Record<string, string>) =>
    `p50 ${msf(histogramQuantile(window, name, match, 0.5))}, p99 ${msf(histogramQuantile(window, name, match, 0.99))}`;
  const PHASES = ['check', 'render', 'gate', 'apply', 'prune', 'health', 'status'];
  const phase = 'trellis_appconfig_reconcile_phase_seconds';
  const verbs = ['GET', 'LIST', 'PATCH', 'POST', 'PUT', 'DELETE']
    .map((method) => [method, sum(window, 'rest_client_requests_total', { method })] as const)
    .filter(([, n]) => n > 0)
    .map(([method, n]) => `${n} ${method}`);
  return [
    `    renders / skips (inputs and children unchanged) ${sum(window, 'trellis_appconfig_renders_total', { result: 'rendered' })} / ${sum(window, 'trellis_appconfig_renders_total', { result: 'skipped' })}`,
    `    queue wait before a reconcile                ${q('workqueue_queue_duration_seconds', { name: 'applicationconfiguration' })}`,
    ...PHASES.filter((p) => sum(window, `${phase}_count`, { phase: p }) > 0).map(
      (p) =>
        `    phase ${p.padEnd(8)} ${String(sum(window, `${phase}_count`, { phase: p })).padStart(5)} ×, total ${sum(window, `${phase}_sum`, { phase: p }).toFixed(2)} s, ${q(phase, { phase: p })}`,
    ),
    `    requests sent                                ${verbs.join(', ')}`,
    ...['GET', 'PATCH', 'POST']
      .filter((verb) => sum(window, 'rest_client_request_duration_seconds_count', { verb }) > 0)
      .map(
        (verb) =>
          `    ${verb.padEnd(5)} latency                                ${q('rest_client_request_duration_seconds', { verb })}`,
      ),
    `    garbage collection                           ${sum(window, 'nodejs_gc_duration_seconds_sum').toFixed(2)} s in ${sum(window, 'nodejs_gc_duration_seconds_count')} pauses (major: ${sum(window, 'nodejs_gc_duration_seconds_sum', { kind: 'major' }).toFixed(2)} s); pauses over 10 ms ${gcOver(window, 0.01)}, over 100 ms ${gcOver(window, 0.1)}`,
  ];
}

/** How many of the window's GC pauses took longer than `seconds` (a bucket bound of `nodejs_gc_duration_seconds`). */
function gcOver(window: Sample[], seconds: number): number {
  const le = (s: Sample) => s.name === 'nodejs_gc_duration_seconds_bucket' && Number(s.labels.le) === seconds;
  return sum(window, 'nodejs_gc_duration_seconds_count') - window.filter(le).reduce((n, s) => n + s.value, 0);
}

/** Steps 1–3 with `count` replicas (sharded when more than one) in namespace `ns`. */
async function measure(count: number, ns: string): Promise<number> {
  const shards = count > 1 ? SHARDS : 0;
  const label = count > 1 ? `${count} replicas, ${shards} shards` : '1 replica (unsharded)';
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const apps = Array.from({ length: N }, (_, i) => appObjects(ns, i));
  // Convergence is observed with watches (not by listing thousands of objects over and over).
  const appInformer = new Informer<ApplicationConfiguration>(kube, {
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'ApplicationConfiguration',
    namespace: ns,
    resyncMs: 0,
  });
  const children = Object.keys(CHILDREN_PER_APP).map(
    (kind) =>
      new Informer<KubeObject>(kube, {
        apiVersion: kind === 'Deployment' ? 'apps/v1' : kind === 'Ingress' ? 'networking.k8s.io/v1' : 'v1',
        kind,
        namespace: ns,
        labelSelector: 'app.oam.dev/name',
        resyncMs: 0,
      }),
  );
  await Promise.all([appInformer.start(), ...children.map((i) => i.start())]);
  const converged = () =>
    appInformer.list().length === N &&
    appInformer
      .list()
      .every(
        (a) =>
          a.status?.observedGeneration === a.metadata.generation &&
          a.status?.conditions?.some((c) => c.type === 'Synced' && c.status === 'True'),
      ) &&
    children.every((i) => i.list().length === N * CHILDREN_PER_APP[i.options.kind as keyof typeof CHILDREN_PER_APP]);
  const start = (nodeArgs?: string[]) =>
    Promise.all(Array.from({ length: count }, (_, i) => controller(ns, `bench-r${i}`, shards, nodeArgs)));

  // 1. From create to Synced with every child present.
  progress(`${label}: applying ${N} applications${CREATE_STOPPED ? ' (no controller running)' : ''}`);
  let ctl: Replica[] = [];
  if (!CREATE_STOPPED) {
    ctl = await start();
    if (shards) while (!idle(await scrapeAll(ctl), count, shards)) await sleep(250);
  }
  const before = CREATE_STOPPED ? [] : await scrapeAll(ctl);
  const t0 = performance.now();
  await mapLimit(
    apps.flatMap((a) => a.components),
    APPLY_INFLIGHT,
    (o) => kube.apply(o, { fieldManager: 'bench' }),
  );
  await mapLimit(
    apps.map((a) => a.app),
    APPLY_INFLIGHT,
    (o) => kube.apply(o, { fieldManager: 'bench' }),
  );
  const applied = performance.now() - t0;
  // Stopped: the controller's convergence is timed from its start (a fresh process: counters from 0).
  const t1 = CREATE_STOPPED ? performance.now() : t0;
  if (CREATE_STOPPED) {
    progress(`${label}: applied in ${s(applied)}; starting the controller`);
    ctl = await start();
  }
  while (!converged()) await sleep(100);
  const total = performance.now() - t1;
  const after = await scrapeAll(ctl);
  // Let it finish what follows Synced (health turning Ready, revisions' status) before the re-sync,
  // so that the re-sync's writes are only the ones an unchanged application would cause.
  const ready = () =>
    appInformer.list().every((a) => a.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  // kube-controller-manager done with every Deployment, and every AppConfig's fingerprint naming its
  // children as they are now: a Deployment status written after the controller stops (or held in its
  // status coalescer, outside the queue) is a changed child the re-sync renders for. On a quiet machine
  // the controller outruns kube-controller-manager's 5 Deployment workers, and its idle queue alone
  // said "settled" while their status writes still trickled in (issue 20: 20–36 re-sync writes).
  const deployments = children.find((i) => i.options.kind === 'Deployment')!;
  const live = (e: { kind: string; name: string; namespace?: string }) =>
    children.find((i) => i.options.kind === e.kind)?.get(e.name, e.namespace ?? ns);
  const unsettled = () => ({
    rolling: deployments.list().filter((d) => !rolledOut(d)).length,
    stale: staleApps(appInformer.list(), live).length,
  });
  // kube-controller-manager writes at its client's 20 requests/s, ≈ 3 writes per new Deployment (its
  // ReplicaSet, the revision annotation, status): 2 Deployments per app take it ≈ 0.3 s per app.
  const settleStart = Date.now();
  const settleBy = settleStart + 300_000 + N * 300;
  let idleSince: number | undefined;
  // What the settle before (Ready, 6 s idle queue) would have restarted with: evidence for the cause.
  let queueIdleSince: number | undefined;
  let queueIdle: ReturnType<typeof unsettled> | undefined;
  for (;;) {
    const u = unsettled();
    const quiet = ready() && idle(await scrapeAll(ctl), count, shards);
    if (quiet) queueIdleSince ??= Date.now();
    else queueIdleSince = undefined;
    if (!queueIdle && queueIdleSince !== undefined && Date.now() - queueIdleSince >= 6_000) queueIdle = u;
    if (quiet && !u.rolling && !u.stale) idleSince ??= Date.now();
    else idleSince = undefined;
    if (idleSince !== undefined && Date.now() - idleSince >= 6_000) break;
    if (Date.now() > settleBy) {
      out.push(
        `  (${s(Date.now() - settleStart)} after Synced: ${u.rolling} Deployments still rolling out, ${u.stale} AppConfigs with children newer ` +
          `than their fingerprint, Ready ${ready()}; the re-sync below includes that work)`,
      );
      break;
    }
    await sleep(250);
  }
  if (EDITS > 0) {
    const load = await waitForQuiet(QUIET_LOAD, { what: `${label}: steady state` });
    out.push(`  (steady state measured at 1-minute load ${load.toFixed(1)})`);
  }
  const steady = EDITS > 0 ? await steadyState(ctl, ns, apps, appInformer, children) : undefined;
  const sizes = CACHE_SIZES ? await cacheSizes(kube, ns) : [];
  const cpu = sum(after, 'process_cpu_seconds_total') - sum(before, 'process_cpu_seconds_total');
  const app = { controller: 'applicationconfiguration' };
  const reconciles = sum(after, 'controller_runtime_reconcile_total', app);
  const writes =
    sum(after, 'rest_client_requests_total', { method: WRITE }) -
    sum(before, 'rest_client_requests_total', { method: WRITE });
  const perReplica = ctl.map((r) => sum(r.last(), 'controller_runtime_reconcile_total', app));
  const peak = {
    controller: Math.max(...ctl.map((r) => r.peakRss().controller)),
    evaluator: Math.max(...ctl.map((r) => r.peakRss().evaluator)),
    both: Math.max(...ctl.map((r) => r.peakRss().both)),
  };
  const composition = ctl.reduce<PeakComposition | undefined>((top, r) => {
    const c = r.peakComposition();
    return c && (!top || c.rss > top.rss) ? c : top;
  }, undefined);
  const oomKills = (await Promise.all(ctl.map((r) => r.oomKills()))).reduce((a, b) => a + b, 0);
  await Promise.all(ctl.map((r) => r.stop()));

  // 2. A full re-sync of the same, unchanged applications by restarted controllers.
  progress(`${label}: converged in ${s(total)}; full re-sync`);
  const resyncLoad = await waitForQuiet(QUIET_LOAD, { what: `${label}: re-sync` });
  out.push(`  (re-sync measured at 1-minute load ${resyncLoad.toFixed(1)})`);
  // What a re-sync must render for: apps whose children were written after their last status write.
  const changed = unsettled();
  const settled = idleSince !== undefined ? idleSince - settleStart : undefined;
  await cluster.controlPlane.clearAuditLog();
  const t2 = performance.now();
  const again = await start(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`] : []);
  let resynced: Sample[] = [];
  for (;;) {
    const scraped = await tryScrapeAll(again);
    if (!scraped) {
      await sleep(500);
      continue;
    }
    resynced = scraped;
    const done =
      sum(resynced, 'controller_runtime_reconcile_total', app) >= N &&
      sum(resynced, 'controller_runtime_reconcile_total', { controller: 'component' }) >= 2 * N;
    if (done && idle(resynced, count, shards)) break;
    await sleep(100);
  }
  const resync = performance.now() - t2;
  const audit = auditWrites(await cluster.controlPlane.auditEvents());
  const cueEvaluations = sum(resynced, 'trellis_cue_evaluations_total');
  const skipped = sum(resynced, 'trellis_appconfig_renders_total', { result: 'skipped' });
  const rendered = sum(resynced, 'trellis_appconfig_renders_total', { result: 'rendered' });
  const reasons = [
    ...new Set(resynced.filter((x) => x.name === 'trellis_appconfig_renders_total').map((x) => x.labels.reason)),
  ]
    .filter((r): r is string => !!r)
    .map((reason) => `${reason} ${sum(resynced, 'trellis_appconfig_renders_total', { result: 'rendered', reason })}`);
  const resyncP99 = histogramQuantile(resynced, 'controller_runtime_reconcile_time_seconds', app, 0.99);
  const resyncRss = Math.max(...again.map((r) => r.peakRss().controller));

  // 3. A replica killed: how long until the survivors hold its shards.
  let takeover = '';
  if (shards) {
    const victim = again[0]!;
    const lost = owned(await victim.scrape()).length;
    await victim.stop('SIGKILL');
    const t3 = performance.now();
    const survivors = again.slice(1);
    while (owned(await scrapeAll(survivors)).length !== shards) await sleep(100);
    takeover = `${s(performance.now() - t3)} after kill -9 for its ${lost} shards (lease duration ${LEASE_SECONDS} s; renewals every 2 s)`;
    await Promise.all(survivors.map((r) => r.stop()));
  } else {
    await Promise.all(again.map((r) => r.stop()));
  }
  for (const i of [appInformer, ...children]) await i.stop();

  out.push(
    `${N} ApplicationConfigurations (2 components × 3 traits; ${N * 8} child objects), ${label}, ${WORKERS} workers each:`,
  );
  const from = CREATE_STOPPED
    ? `controller start → all Synced, every child present (all applied before it started, ${APPLY_INFLIGHT} at a time: ${s(applied)})`
    : `create → all Synced, every child present (the driver's applies, ${APPLY_INFLIGHT} at a time, took ${s(applied)})`;
  out.push(`  ${from}`);
  out.push(`                                                 ${s(total)}  (${(N / (total / 1000)).toFixed(1)} apps/s)`);
  out.push(
    `  AppConfig reconciles                           ${reconciles}${count > 1 ? ` (per replica ${perReplica.join(' / ')})` : ''}, p50 ${msf(histogramQuantile(after, 'controller_runtime_reconcile_time_seconds', app, 0.5))}, p99 ${msf(histogramQuantile(after, 'controller_runtime_reconcile_time_seconds', app, 0.99))}`,
  );
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  const cpuShare = `${cpu.toFixed(1)} s CPU (${((cpu / (total / 1000)) * 100).toFixed(0)}% of a core)`;
  out.push(
    `  controller CPU / peak RSS                      ${cpuShare} / ${mib(peak.controller)}${count > 1 ? ' (largest replica)' : ''}`,
  );
  const evaluatorPeak = peak.evaluator ? mib(peak.evaluator) : '0: none ran, wasm engine';
  out.push(`  peak RSS, controller + its CUE evaluator       ${mib(peak.both)} (evaluator at most ${evaluatorPeak})`);
  out.push(
    `    memory limit (controller + evaluator)        ${unlimited ? `none (${unlimited})` : `${mib(MEMORY_LIMIT)}, as the chart's controller.resources.limits.memory (V8 sizes its heap from it); killed for it: ${oomKills}`}; node ${NODE_ARGS.join(' ') || '(no flags)'}`,
  );
  if (composition)
    out.push(
      `    the controller's RSS at that peak (${composition.seconds.toFixed(0)} s in) ${mib(composition.rss)}: V8 heap ${mib(composition.heapTotal)} (${mib(composition.heapUsed)} used), ` +
        `external ${mib(composition.external)}, rest ${mib(composition.rss - composition.heapTotal - composition.external)} (code, stacks, malloc)`,
    );
  out.push(
    `  controller write requests                      ${writes} (children, revisions, statuses, Events${shards ? ', Leases' : ''})`,
  );
  if (steady) out.push(...steady);
  if (sizes.length) out.push('  what the informer caches hold (listed now):', ...sizes);
  out.push(
    `  full re-sync of the unchanged apps             ${s(resync)} (restart → queue empty${shards ? ', shards split' : ''}), reconcile p99 ${msf(resyncP99)}, peak RSS ${(resyncRss / 2 ** 20).toFixed(0)} MiB`,
  );
  out.push(
    `    writes (audit log)                           ${audit.writes}${audit.writes ? ` (${audit.byResource})` : ''}${shards ? `; Lease writes apart: ${audit.leases}` : ''}`,
  );
  out.push(
    `    CUE evaluations / renders skipped, rendered  ${cueEvaluations} / ${skipped}, ${rendered}${reasons.length ? ` (why: ${reasons.join(', ')})` : ''}`,
    `    changed before the restart (so rendered)     ${changed.stale} AppConfigs with children newer than their fingerprint, ${changed.rolling} Deployments rolling out`,
    `    settled (rolled out, fingerprints current)   ${settled !== undefined ? `${s(settled)} after Synced` : 'not in time'}`,
    `    (a 6 s idle queue alone, first seen with     ${queueIdle ? `${queueIdle.stale} such AppConfigs, ${queueIdle.rolling} Deployments rolling out)` : 'never seen)'}`,
  );
  if (takeover) out.push(`  a replica killed: survivors hold every shard   ${takeover}`);
  return total;
}

try {
  let fastest = Infinity;
  for (const count of REPLICAS)
    fastest = Math.min(fastest, await measure(count, REPLICAS.length > 1 ? `${NS}-${count}` : NS));

  // 4. Reference: the same children, rendered offline with the same code, applied by a plain client.
  if (REFERENCE) {
    progress('the plain-client reference');
    const apps = Array.from({ length: N }, (_, i) => appObjects('reference', i));
    const engine = new CueEngine();
    const components = apps.flatMap((a) => a.components) as unknown as Component[];
    const latest = Object.fromEntries(components.map((c) => [c.metadata.name!, `${c.metadata.name}-v1`]));
    const source = staticComponents(components, { latestRevisions: latest });
    const definitions = builtinCatalog();
    const rendered: KubeObject[] = [];
    for (const a of apps)
      rendered.push(
        ...(
          await renderApplication({
            appConfig: a.app as unknown as ApplicationConfiguration,
            components: source,
            definitions,
            engine,
          })
        ).objects.map((o) => o.object),
      );
    await engine.stop();
    const plain = async (ns: string, concurrency: number) => {
      await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      const start = performance.now();
      await mapLimit(rendered, concurrency, (o) =>
        kube.apply({ ...o, metadata: { ...o.metadata, namespace: ns } }, { fieldManager: 'bench-plain' }),
      );
      return performance.now() - start;
    };
    const plain8 = await plain('bench-reconcile-plain-8', 8);
    const plain32 = await plain('bench-reconcile-plain-32', 32);
    const best = Math.min(plain8, plain32);
    out.push(`reference: plain client, 8 at a time           ${s(plain8)}`);
    out.push(`reference: plain client, 32 at a time          ${s(plain32)}`);
    out.push(`ratio fastest controller run / plain client    ${(fastest / best).toFixed(2)}×`);
  }
  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  console.log(
    `\nreconcile — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load ${load}, ${new Date().toISOString()}`,
  );
  console.log(out.join('\n'));
} finally {
  for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  // A cgroup is removed once its processes are gone.
  await Promise.all(running.map((p) => p.exited));
  for (const c of cgroups) await c.remove();
  await stopTestCluster();
}
