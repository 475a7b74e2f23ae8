/**
 * `npm run bench:shards`: issue 13's sharded-controllers acceptance at full scale, in one run against
 * its own test control plane (ADR 0009).
 *
 *   1. BENCH_SHARDS_APPS ApplicationConfigurations (default 1000; bench:reconcile's apps: 2
 *      webservice Components × 3 traits, 8 children each, the image taken from the Component) are
 *      applied while no controller runs; BENCH_SHARDS_REPLICAS (3) replicas start (compiled, as the
 *      image runs them) and converge them (start → converged).
 *   2. Kills: BENCH_SHARDS_KILLS (20) rollouts of every app (every Component's image changed → a
 *      new revision each); in each, once BENCH_SHARDS_KILL_AT (0.3) of the apps have rolled out, one
 *      replica (each in turn) is killed with SIGKILL and a replacement started at once (a new
 *      identity, as a Deployment's new pod). After each: every app converged on the new revision
 *      (kill → converged), the shards split evenly again, 0 orphans and 0 duplicates
 *      (bench/shards/view.ts), and from the API server's audit log (read as it grows) 0 writes by a
 *      replica outside the shards it held and 0 write conflicts between replicas
 *      (test/support/shards.ts, as test/integration/controllers/sharded-replicas.test.ts; the admin
 *      identity's writes are audited too, so a 409 after kube-controller-manager's Deployment status
 *      write is not blamed on a replica). Each kill's line, where its time and CPU went (per process
 *      group, from /proc) and the totals so far are printed as soon as it is done.
 *   Between 1 and 2, compare (BENCH_SHARDS_COMPARE, default on) in the same run: the converged
 *      replicas roll BENCH_SHARDS_COMPARE_APPS apps out (default and at most half of them) without a
 *      kill; one unsharded controller re-syncs every app (start → queue empty) and rolls out as many
 *      others (both sides the first rollout of their apps since the children's creation); then the
 *      replicas restart (their re-sync), and the kills run with them. Measured per side: rollout
 *      throughput (apps/s) and the controllers' CPU per app, re-sync time and its writes.
 *
 * Every figure is printed when measured and appended to BENCH_SHARDS_REPORT (a file) if set; SIGTERM
 * or SIGINT ends the run after printing the summary of what it measured and stopping what it started.
 *
 * Env: BENCH_SHARDS_APPS (1000), BENCH_SHARDS_KILLS (20), BENCH_SHARDS_REPLICAS (3),
 * BENCH_SHARDS_SHARDS (12), BENCH_SHARDS_LEASE_SECONDS (15, as the chart), BENCH_SHARDS_KILL_AT (0.3),
 * BENCH_SHARDS_COMPARE (`0` skips the comparison), BENCH_SHARDS_COMPARE_APPS, BENCH_SHARDS_CONCURRENCY (workers per replica, 8),
 * BENCH_SHARDS_APPLY (the driver's applies in flight, 32), BENCH_SHARDS_TIMEOUT_MINUTES (per
 * convergence, 30), BENCH_SHARDS_LOGS (a folder: each replica logs at info level to
 * `<identity>.log` there), BENCH_SHARDS_PROFILE (a folder: each replica writes a V8 CPU profile there
 * when it stops — not those killed), BENCH_SHARDS_REPORT (a file the figures are appended to), plus
 * the test control plane's variables (TRELLIS_CONTROL_PLANE_BIN, ...).
 */
import { appendFile } from 'node:fs/promises';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeObject } from '../../kube/index.js';
import type { AuditEvent } from '../../controlplane/index.js';
import { mapLimit } from '../../lib/map-limit.js';
import { shardOf } from '../../runtime/index.js';
import { startTestCluster, stopTestCluster } from '../../test/support/cluster.js';
import { ExclusivityChecker, replicaOf } from '../../test/support/shards.js';
import { appObjects } from '../reconcile/apps.js';
import { idle, owned, sum, type Sample } from '../reconcile/metrics.js';
import { CpuMeter, processCpu, treeCpu } from './cpu.js';
import { Replica, scrapeAll, type ReplicaOptions } from './replicas.js';
import { ClusterView } from './view.js';
import { shardOfWrite } from './attribution.js';

const env = process.env;
const N = Number(env.BENCH_SHARDS_APPS ?? 1000);
const KILLS = Number(env.BENCH_SHARDS_KILLS ?? 20);
const REPLICAS = Number(env.BENCH_SHARDS_REPLICAS ?? 3);
const SHARDS = Number(env.BENCH_SHARDS_SHARDS ?? 12);
const KILL_AT = Number(env.BENCH_SHARDS_KILL_AT ?? 0.3);
const COMPARE = env.BENCH_SHARDS_COMPARE !== '0';
const COMPARE_APPS = Math.min(Number(env.BENCH_SHARDS_COMPARE_APPS ?? N), Math.floor(N / 2));
const APPLY = Number(env.BENCH_SHARDS_APPLY ?? 32);
const TIMEOUT_MS = Number(env.BENCH_SHARDS_TIMEOUT_MINUTES ?? 30) * 60_000;
const PROFILE = env.BENCH_SHARDS_PROFILE;
const REPORT = env.BENCH_SHARDS_REPORT;
const NS = 'bench-shards';
const GROUP = 'bench-shards';
const WRITES = new Set(['create', 'update', 'patch', 'delete']);

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** A figure as soon as it is measured: on stdout and appended to BENCH_SHARDS_REPORT, so a run cut short keeps it. */
async function emit(line: string): Promise<void> {
  console.log(line);
  if (REPORT) await appendFile(REPORT, `${line}\n`);
}

// SIGTERM/SIGINT (a run stopped at a deadline): every wait below throws, the `finally` reports what was
// measured and stops the replicas and the control plane.
let stopSignal: string | undefined;
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.once(signal, () => {
    stopSignal = signal;
    progress(`${signal}: stopping after reporting what was measured`);
  });
function checkStop(): void {
  if (stopSignal) throw new Error(`stopped by ${stopSignal}`);
}
const progress = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

/** The version each app (by index) is rolled out to last: what it must converge on. */
const versions: string[] = Array.from({ length: N }, () => 'v1');
const expected = (app: string) => versions[Number(app.slice('app-'.length))]!;

/**
 * Components (image `example.com/<role>:<version>`) and AppConfigs of apps `from` to `to` (not
 * included), the image not overridden; those apps are then expected on `version`.
 */
function objects(version: string, from = 0, to = N): { components: KubeObject[]; apps: KubeObject[] } {
  const all = Array.from({ length: to - from }, (_, i) => appObjects(NS, from + i));
  versions.fill(version, from, to);
  const components = all.flatMap((a) =>
    a.components.map((c) => {
      const spec = c.spec as { workload: { properties: Record<string, unknown> } };
      const role = c.metadata.name!.split('-').at(-1)!;
      const properties = { ...spec.workload.properties, image: `example.com/${role}:${version}` };
      return { ...c, spec: { ...spec, workload: { ...spec.workload, properties } } };
    }),
  );
  const apps = all.map(({ app }) => {
    const spec = app.spec as { components: { parameterValues?: unknown }[] };
    return { ...app, spec: { components: spec.components.map(({ parameterValues: _, ...c }) => c) } };
  });
  return { components, apps };
}

// The admin identity's writes too (kube-controller-manager's Deployment status, the bench's own
// applies): a 409 answered to a replica is then traced to whoever wrote the object before it.
const cluster = await startTestCluster(env, { auditAdminWrites: true });
const { kube } = cluster;
const view = new ClusterView(kube, NS, N);
const options = (shards: number): ReplicaOptions => ({
  kubeconfig: cluster.controllerKubeconfig,
  namespace: NS,
  concurrency: Number(env.BENCH_SHARDS_CONCURRENCY ?? 8),
  shards,
  leaseSeconds: Number(env.BENCH_SHARDS_LEASE_SECONDS ?? 15),
  group: GROUP,
  ...(env.BENCH_SHARDS_LOGS ? { logDir: env.BENCH_SHARDS_LOGS } : {}),
  ...(PROFILE ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`] } : {}),
});
const live: Replica[] = [];
const out: string[] = [];
/** Every replica started, to stop what still runs at the end. */
const every: Replica[] = [];
const start = (identity: string, shards: number) =>
  Replica.start(identity, options(shards)).then((r) => (every.push(r), r));

// Where each phase's CPU goes: the replicas (with their CUE evaluators), the control plane's processes, the bench.
const meter = new CpuMeter();
const benchCpu = async () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};
const measured = () => [
  ...every
    .filter((r) => r.pid)
    .map((r) => ({ id: r.identity, group: 'replicas', cpu: () => treeCpu(r.pid!, ['trellis-cue']) })),
  ...cluster.controlPlane
    .processes()
    .map(({ name, pid }) => ({ id: `cp-${pid}`, group: name, cpu: () => processCpu(pid) })),
  { id: 'bench', group: 'bench', cpu: benchCpu },
];
/** CPU seconds per group since the last call, e.g. `replicas 41.2 s, kube-apiserver 30.1 s, etcd 8.0 s, ...`. */
const cpuSpent = async () => {
  const spent = await meter.take(measured());
  return Object.entries(spent)
    .sort(([, a], [, b]) => b - a)
    .map(([group, cpu]) => `${group} ${cpu.toFixed(1)} s`)
    .join(', ');
};

// The audit log, read as it grows: every replica's writes checked for exclusivity once sharded.
const checker = new ExclusivityChecker({ group: GROUP, shards: SHARDS, shardOf: shardOfWrite(NS, SHARDS) });
let auditAt = 0;
/** The controllers' writes since the last call (Lease writes apart); checked when `check` (else only remembered). */
async function auditWindow(check: boolean): Promise<{ writes: number; leases: number; events: number; bytes: number }> {
  const from = auditAt;
  const { events, next } = await cluster.controlPlane.auditEventsFrom(auditAt);
  auditAt = next;
  checker.add(events, { sharded: check });
  const mine = events.filter((e: AuditEvent) => replicaOf(e) && WRITES.has(e.verb));
  const leases = mine.filter((e) => e.objectRef?.resource === 'leases').length;
  return { writes: mine.length - leases, leases, events: events.length, bytes: next - from };
}

/** Replicas that ended on their own (e.g. leadership of the run-once loops lost: the CLI exits so the pod restarts). */
const crashes: string[] = [];
/** Replaces every replica of `replicas` that ended on its own, as a Deployment would (a new identity). */
async function heal(replicas: Replica[], shards: number): Promise<void> {
  for (const [i, r] of replicas.entries()) {
    if (r.running()) continue;
    crashes.push(`${r.identity} (${r.lastLog()})`);
    await r.stop();
    replicas[i] = await start(`${r.identity}-restarted`, shards);
  }
}

/** Waits until every app converged on its version; on timeout, names the stuck apps, their shards and holders. */
async function converged(replicas: Replica[], shards: number): Promise<void> {
  const by = Date.now() + TIMEOUT_MS;
  while (!view.converged(expected).complete) {
    checkStop();
    await heal(replicas, shards);
    if (Date.now() > by) {
      const samples = (await scrapeAll(replicas)) ?? [];
      const holder = (shard: number) =>
        owned(samples).find((o) => o.labels.shard === String(shard))?.labels.replica ?? 'nobody';
      const state = view.converged(expected);
      const stuck = state.pending.slice(0, 10).map((name) => {
        const shard = shardOf(`${NS}/${name}`, shards || 1);
        return shards ? `${name} (shard ${shard}, held by ${holder(shard)})` : name;
      });
      throw new Error(`not converged after ${s(TIMEOUT_MS)}: ${state.done}/${N}; e.g. ${stuck.join(', ')}`);
    }
    await sleep(100);
  }
}

/** Waits until the replicas' queues are empty and (sharded) every shard is held, split evenly. */
async function settled(replicas: Replica[], shards: number): Promise<Sample[]> {
  const by = Date.now() + TIMEOUT_MS;
  for (;;) {
    checkStop();
    await heal(replicas, shards);
    const samples = await scrapeAll(replicas);
    if (samples && idle(samples, replicas.length, shards)) return samples;
    if (Date.now() > by) throw new Error(`replicas not idle and evenly split after ${s(TIMEOUT_MS)}`);
    await sleep(250);
  }
}

/** The replicas' CPU during one rollout (with their CUE evaluators, from /proc: a replica replaced meanwhile counts too). */
const rolloutMeter = new CpuMeter();

/** Rolls apps `from`..`to` out to `version` with no kill: the time to converged and the controllers' CPU. */
async function rollout(version: string, replicas: Replica[], shards: number, from: number, to: number) {
  await rolloutMeter.take(measured());
  const t = performance.now();
  await mapLimit(objects(version, from, to).components, APPLY, (o) => kube.apply(o, { fieldManager: 'bench' }));
  await converged(replicas, shards);
  const ms = performance.now() - t;
  await settled(replicas, shards);
  return { ms, cpu: (await rolloutMeter.take(measured())).replicas ?? 0 };
}

/** Starts `count` replicas on converged apps: the time until each queue is empty having reconciled everything. */
async function resync(count: number, shards: number, prefix: string) {
  const t = performance.now();
  const replicas = await Promise.all(Array.from({ length: count }, (_, i) => start(`${prefix}${i}`, shards)));
  const by = Date.now() + TIMEOUT_MS;
  for (;;) {
    checkStop();
    await heal(replicas, shards);
    const samples = await scrapeAll(replicas);
    const done =
      samples &&
      sum(samples, 'controller_runtime_reconcile_total', { controller: 'applicationconfiguration' }) >= N &&
      sum(samples, 'controller_runtime_reconcile_total', { controller: 'component' }) >= 2 * N &&
      idle(samples, count, shards);
    if (done) break;
    if (Date.now() > by) throw new Error(`re-sync of ${count} replicas not done after ${s(TIMEOUT_MS)}`);
    await sleep(100);
  }
  return { replicas, ms: performance.now() - t };
}

interface Kill {
  k: number;
  victim: string;
  replacement: string;
  rolledAtKill: number;
  killToConverged: number;
  rollout: number;
  toBalanced: number;
  violations: number;
  conflicts: number;
  orphans: string[];
  duplicates: string[];
  leakedEvaluators: number;
  load: string;
  /** The driver's applies of the new Components (from the rollout's start). */
  applied: number;
  /** Reading and checking the audit log, and the orphans/duplicates audit of the watched objects. */
  verify: number;
  auditEvents: number;
  auditBytes: number;
  /** CPU seconds per process group during this kill's rollout, e.g. `replicas 40.1 s, kube-apiserver 30.2 s, ...`. */
  cpu: string;
}
const kills: Kill[] = [];
/** The last kill's writes outside shards and conflicts, each named. */
let newFindings: string[] = [];

/** One rollout of every app with one replica killed (SIGKILL) once KILL_AT of them rolled out, and the checks. */
async function rolloutWithKill(k: number, version: string): Promise<Kill> {
  const before = checker.report();
  const t0 = performance.now();
  let failed: unknown;
  let tApplied = 0;
  const applying = mapLimit(objects(version).components, APPLY, (o) => kube.apply(o, { fieldManager: 'bench' }))
    .then(() => (tApplied = performance.now()))
    .catch((err: unknown) => (failed = err));
  let rolled = view.converged(expected).done;
  while (rolled < KILL_AT * N) {
    checkStop();
    if (failed) throw failed;
    await sleep(50);
    rolled = view.converged(expected).done;
  }
  const slot = (k - 1) % live.length;
  const victim = live[slot]!;
  await meter.see(measured()); // the victim's CPU up to its kill
  const { leakedEvaluators } = await victim.stop('SIGKILL');
  const tKill = performance.now();
  const replacement = `bench-r${slot}-k${k}`;
  live[slot] = await start(replacement, SHARDS);
  await applying;
  if (failed) throw failed;
  await converged(live, SHARDS);
  const tConverged = performance.now();
  await settled(live, SHARDS);
  const tBalanced = performance.now();
  const audit = await auditWindow(true);
  const after = checker.report();
  newFindings = [
    ...after.violations.slice(before.violations.length).map((v) => `violation: ${v}`),
    ...after.conflicts.slice(before.conflicts.length).map((c) => `conflict: ${c}`),
  ];
  const { orphans, duplicates } = view.audit();
  const verify = performance.now() - tBalanced;
  return {
    k,
    victim: victim.identity,
    replacement,
    rolledAtKill: rolled,
    killToConverged: tConverged - tKill,
    rollout: tConverged - t0,
    toBalanced: tBalanced - tConverged,
    violations: after.violations.length - before.violations.length,
    conflicts: after.conflicts.length - before.conflicts.length,
    orphans,
    duplicates,
    leakedEvaluators: leakedEvaluators.length,
    load: load(),
    applied: tApplied - t0,
    verify,
    auditEvents: audit.events,
    auditBytes: audit.bytes,
    cpu: await cpuSpent(),
  };
}

const killLine = (x: Kill) =>
  `| ${x.k} | ${x.victim} → ${x.replacement} | ${x.rolledAtKill}/${N} | ${s(x.killToConverged)} | ${s(x.rollout)} | ` +
  `${s(x.toBalanced)} | ${x.violations} | ${x.conflicts} | ${x.orphans.length} | ${x.duplicates.length} | ` +
  `${x.leakedEvaluators} | ${x.load} |`;
/** Where a kill's time and CPU went (printed under its line). */
const killDetail = (x: Kill) =>
  `    kill ${x.k}: applies ${s(x.applied)}, checks ${s(x.verify)} (${x.auditEvents} audit events, ` +
  `${(x.auditBytes / 2 ** 20).toFixed(1)} MiB); CPU ${x.cpu}`;
/** Everything measured so far, after each kill: a run cut short still says what its kills showed. */
function summary(): string {
  const sorted = kills.map((x) => x.killToConverged).sort((a, b) => a - b);
  const report = checker.report();
  return (
    `${kills.length} kills: kill → converged p50 ${s(sorted[Math.floor(sorted.length / 2)]!)}, max ${s(sorted.at(-1)!)}; ` +
    `orphans ${kills.reduce((a, x) => a + x.orphans.length, 0)}, duplicates ${kills.reduce((a, x) => a + x.duplicates.length, 0)}; ` +
    `audit log: ${report.writes} writes checked from ${report.replicas.length} replicas, ${report.handovers} shard tenures, ` +
    `${report.violations.length} outside the writer's shards, ${report.conflicts.length} conflicts between replicas`
  );
}

/** A figure of the run: printed (and appended to the report) now, and again in the summary at the end. */
async function figure(line: string): Promise<void> {
  out.push(line);
  await emit(line);
}

/**
 * 1 vs 3 replicas in the same run, before the kills (so a run cut short during its kills has them).
 * Each side rolls out its own COMPARE_APPS apps, the first rollout of both sets since their children
 * were created (which also hands each child's `Update` field entry to `Apply`: one more patch each,
 * on both sides alike): the converged replicas roll apps 0.. out; one unsharded controller re-syncs
 * every app and rolls the next COMPARE_APPS out; then `REPLICAS` replicas restart (their re-sync) and
 * are the ones the kills run with.
 */
async function compare(version: () => string): Promise<Replica[]> {
  const n = COMPARE_APPS;
  const perApp = (cpu: number) => `${((cpu / n) * 1000).toFixed(1)} ms per app`;
  progress(`${REPLICAS} replicas: roll out ${n} apps`);
  await cpuSpent();
  const three = await rollout(version(), live, SHARDS, 0, n);
  await figure(
    `${REPLICAS} replicas: rollout of ${n} apps ${s(three.ms)} (${(n / (three.ms / 1000)).toFixed(2)} apps/s), ` +
      `controllers' CPU (with their CUE evaluators) ${three.cpu.toFixed(1)} s (${perApp(three.cpu)}) (load ${load()}); CPU ${await cpuSpent()}`,
  );
  for (const r of live.splice(0)) await r.stop();
  await auditWindow(true);

  progress(`one unsharded controller: re-sync, roll out ${n} other apps`);
  const single = await resync(1, 0, 'bench-single');
  const writes1 = await auditWindow(false);
  await figure(
    `1 replica: re-sync of ${N} apps (start → queue empty) ${s(single.ms)}, ${writes1.writes} writes (audit log) ` +
      `(load ${load()})`,
  );
  await cpuSpent();
  const one = await rollout(version(), single.replicas, 0, n, 2 * n);
  await figure(
    `1 replica: rollout of ${n} apps ${s(one.ms)} (${(n / (one.ms / 1000)).toFixed(2)} apps/s), ` +
      `controller CPU (with its CUE evaluator) ${one.cpu.toFixed(1)} s (${perApp(one.cpu)}) (load ${load()}); CPU ${await cpuSpent()}`,
  );
  for (const r of single.replicas) await r.stop();
  await auditWindow(false);

  progress(`${REPLICAS} replicas: re-sync`);
  const sharded = await resync(REPLICAS, SHARDS, 'bench-resync-r');
  const writes3 = await auditWindow(true);
  await figure(
    `${REPLICAS} replicas: re-sync of ${N} apps (restart → queues empty, shards split) ${s(sharded.ms)}, ` +
      `${writes3.writes} writes (audit log), ${writes3.leases} Lease writes apart (load ${load()})`,
  );
  return sharded.replicas;
}

try {
  await figure(
    `shards — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${new Date().toISOString()}`,
  );
  await figure(
    `${N} apps (2 components × 3 traits, 8 children each), ${REPLICAS} replicas, ${SHARDS} shards, ${KILLS} kills`,
  );
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await view.start();
  const v1 = objects('v1');
  progress(`applying ${N} applications (no controller running)`);
  await mapLimit(v1.components, APPLY, (o) => kube.apply(o, { fieldManager: 'bench' }));
  await mapLimit(v1.apps, APPLY, (o) => kube.apply(o, { fieldManager: 'bench' }));
  let version = 1;

  progress(`${REPLICAS} replicas: converge`);
  await cpuSpent();
  const t = performance.now();
  live.push(...(await Promise.all(Array.from({ length: REPLICAS }, (_, i) => start(`bench-r${i}`, SHARDS)))));
  await converged(live, SHARDS);
  await figure(
    `${REPLICAS} replicas: start → all converged ${s(performance.now() - t)} (load ${load()}); CPU ${await cpuSpent()}`,
  );
  await settled(live, SHARDS);
  await auditWindow(true);
  const split = owned((await scrapeAll(live)) ?? []);
  await figure(
    `shards held: ${live.map((r) => `${r.identity} ${split.filter((o) => o.labels.replica === r.identity).length}`).join(', ')}`,
  );
  if (COMPARE && COMPARE_APPS) live.push(...(await compare(() => `v${++version}`)));

  progress(`${KILLS} rollouts, each with a kill -9`);
  await cpuSpent();
  for (let k = 1; k <= KILLS; k++) {
    const result = await rolloutWithKill(k, `v${++version}`);
    kills.push(result);
    await emit(killLine(result));
    await emit(killDetail(result));
    for (const line of [...result.orphans, ...result.duplicates, ...newFindings].slice(0, 20))
      await emit(`    ${line}`);
    await emit(`    so far: ${summary()}`);
  }
} finally {
  if (kills.length) {
    out.push(
      '| kill | replica killed → started | apps rolled out at the kill | kill → converged | rollout | → shards split evenly | ' +
        'writes outside shards | conflicts | orphans | duplicates | evaluators left | load |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...kills.map(killLine),
    );
    const report = checker.report();
    out.push(
      summary(),
      ...report.violations.slice(0, 20).map((v) => `  violation: ${v}`),
      ...report.conflicts.slice(0, 20).map((c) => `  conflict: ${c}`),
    );
  }
  out.push(`replicas that ended on their own (replaced): ${crashes.length ? crashes.join('; ') : 'none'}`);
  out.push(`replica processes started: ${every.length}; load at the end ${load()}, ${new Date().toISOString()}`);
  console.log(`\n${out.join('\n')}`);
  if (REPORT) await appendFile(REPORT, `\n${out.join('\n')}\n`);
  for (const r of every) if (r.running()) await r.stop();
  await view.stop();
  await stopTestCluster();
}
