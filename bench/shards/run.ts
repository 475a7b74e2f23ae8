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
 *      (test/support/shards.ts, as test/integration/controllers/sharded-replicas.test.ts).
 *   3. Compare (BENCH_SHARDS_COMPARE, default on), on the same apps: the replicas roll every app out
 *      once more without a kill, then restart (their re-sync: start → queues empty, shards split);
 *      then one unsharded controller starts (its re-sync) and rolls every app out. Measured per side:
 *      rollout throughput (apps/s) and the controllers' CPU per app, re-sync time and its writes.
 *
 * Env: BENCH_SHARDS_APPS (1000), BENCH_SHARDS_KILLS (20), BENCH_SHARDS_REPLICAS (3),
 * BENCH_SHARDS_SHARDS (12), BENCH_SHARDS_LEASE_SECONDS (15, as the chart), BENCH_SHARDS_KILL_AT (0.3),
 * BENCH_SHARDS_COMPARE (`0` skips step 3), BENCH_SHARDS_CONCURRENCY (workers per replica, 8),
 * BENCH_SHARDS_APPLY (the driver's applies in flight, 32), BENCH_SHARDS_TIMEOUT_MINUTES (per
 * convergence, 30), BENCH_SHARDS_LOGS (a folder: each replica logs at info level to
 * `<identity>.log` there), plus the test control plane's variables (TRELLIS_CONTROL_PLANE_BIN, ...).
 */
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
import { Replica, scrapeAll, type ReplicaOptions } from './replicas.js';
import { ClusterView } from './view.js';

const env = process.env;
const N = Number(env.BENCH_SHARDS_APPS ?? 1000);
const KILLS = Number(env.BENCH_SHARDS_KILLS ?? 20);
const REPLICAS = Number(env.BENCH_SHARDS_REPLICAS ?? 3);
const SHARDS = Number(env.BENCH_SHARDS_SHARDS ?? 12);
const KILL_AT = Number(env.BENCH_SHARDS_KILL_AT ?? 0.3);
const COMPARE = env.BENCH_SHARDS_COMPARE !== '0';
const APPLY = Number(env.BENCH_SHARDS_APPLY ?? 32);
const TIMEOUT_MS = Number(env.BENCH_SHARDS_TIMEOUT_MINUTES ?? 30) * 60_000;
const NS = 'bench-shards';
const GROUP = 'bench-shards';
const WRITES = new Set(['create', 'update', 'patch', 'delete']);

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const progress = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
const APP_NAME = /^app-\d{4}/;
const COMPONENT_NAME = /^app-\d{4}-(?:web|api)/;

/** Components (image `example.com/<role>:<version>`) and AppConfigs of the bench, the image not overridden. */
function objects(version: string): { components: KubeObject[]; apps: KubeObject[] } {
  const all = Array.from({ length: N }, (_, i) => appObjects(NS, i));
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

const cluster = await startTestCluster(env);
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
});
const live: Replica[] = [];
const out: string[] = [];
/** Every replica started, to stop what still runs at the end. */
const every: Replica[] = [];
const start = (identity: string, shards: number) =>
  Replica.start(identity, options(shards)).then((r) => (every.push(r), r));

// The audit log, read as it grows: every replica's writes checked for exclusivity once sharded.
const checker = new ExclusivityChecker({
  group: GROUP,
  shards: SHARDS,
  shardOf: (e) => {
    const ref = e.objectRef;
    if (ref?.namespace !== NS || !ref.name) return undefined;
    if (ref.resource === 'components' || ref.resource === 'controllerrevisions') {
      const component = COMPONENT_NAME.exec(ref.name)?.[0];
      return component ? shardOf(`${NS}/${component}`, SHARDS) : undefined;
    }
    if (['applicationconfigurations', 'deployments', 'services', 'ingresses'].includes(ref.resource ?? '')) {
      const app = APP_NAME.exec(ref.name)?.[0];
      return app ? shardOf(`${NS}/${app}`, SHARDS) : undefined;
    }
    return undefined;
  },
});
let auditAt = 0;
/** The controllers' writes since the last call (Lease writes apart); fed to the checker when `check`. */
async function auditWindow(check: boolean): Promise<{ writes: number; leases: number }> {
  const { events, next } = await cluster.controlPlane.auditEventsFrom(auditAt);
  auditAt = next;
  if (check) checker.add(events);
  const mine = events.filter((e: AuditEvent) => replicaOf(e) && WRITES.has(e.verb));
  const leases = mine.filter((e) => e.objectRef?.resource === 'leases').length;
  return { writes: mine.length - leases, leases };
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

/** Waits until every app converged on `version`; on timeout, names the stuck apps, their shards and holders. */
async function converged(version: string, replicas: Replica[], shards: number): Promise<void> {
  const by = Date.now() + TIMEOUT_MS;
  while (!view.converged(version).complete) {
    await heal(replicas, shards);
    if (Date.now() > by) {
      const samples = (await scrapeAll(replicas)) ?? [];
      const holder = (shard: number) =>
        owned(samples).find((o) => o.labels.shard === String(shard))?.labels.replica ?? 'nobody';
      const state = view.converged(version);
      const stuck = state.pending.slice(0, 10).map((name) => {
        const shard = shardOf(`${NS}/${name}`, shards || 1);
        return shards ? `${name} (shard ${shard}, held by ${holder(shard)})` : name;
      });
      throw new Error(
        `not converged on ${version} after ${s(TIMEOUT_MS)}: ${state.done}/${N}; e.g. ${stuck.join(', ')}`,
      );
    }
    await sleep(100);
  }
}

/** Waits until the replicas' queues are empty and (sharded) every shard is held, split evenly. */
async function settled(replicas: Replica[], shards: number): Promise<Sample[]> {
  const by = Date.now() + TIMEOUT_MS;
  for (;;) {
    await heal(replicas, shards);
    const samples = await scrapeAll(replicas);
    if (samples && idle(samples, replicas.length, shards)) return samples;
    if (Date.now() > by) throw new Error(`replicas not idle and evenly split after ${s(TIMEOUT_MS)}`);
    await sleep(250);
  }
}

const cpu = async (replicas: Replica[], shards: number) => {
  for (;;) {
    await heal(replicas, shards);
    const samples = await scrapeAll(replicas);
    if (samples) return sum(samples, 'process_cpu_seconds_total');
    await sleep(200);
  }
};

/** Rolls every app out to `version` with no kill: the time to converged and the controllers' CPU. */
async function rollout(version: string, replicas: Replica[], shards: number) {
  const cpuBefore = await cpu(replicas, shards);
  const t = performance.now();
  await mapLimit(objects(version).components, APPLY, (o) => kube.apply(o, { fieldManager: 'bench' }));
  await converged(version, replicas, shards);
  const ms = performance.now() - t;
  await settled(replicas, shards);
  return { ms, cpu: (await cpu(replicas, shards)) - cpuBefore };
}

/** Starts `count` replicas on converged apps: the time until each queue is empty having reconciled everything. */
async function resync(count: number, shards: number, prefix: string) {
  const t = performance.now();
  const replicas = await Promise.all(Array.from({ length: count }, (_, i) => start(`${prefix}${i}`, shards)));
  const by = Date.now() + TIMEOUT_MS;
  for (;;) {
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
}
const kills: Kill[] = [];

/** One rollout of every app with one replica killed (SIGKILL) once KILL_AT of them rolled out, and the checks. */
async function rolloutWithKill(k: number, version: string): Promise<Kill> {
  const before = checker.report();
  const t0 = performance.now();
  let failed: unknown;
  const applying = mapLimit(objects(version).components, APPLY, (o) => kube.apply(o, { fieldManager: 'bench' })).catch(
    (err: unknown) => (failed = err),
  );
  let rolled = view.converged(version).done;
  while (rolled < KILL_AT * N) {
    if (failed) throw failed;
    await sleep(50);
    rolled = view.converged(version).done;
  }
  const slot = (k - 1) % live.length;
  const victim = live[slot]!;
  const { leakedEvaluators } = await victim.stop('SIGKILL');
  const tKill = performance.now();
  const replacement = `bench-r${slot}-k${k}`;
  live[slot] = await start(replacement, SHARDS);
  await applying;
  if (failed) throw failed;
  await converged(version, live, SHARDS);
  const tConverged = performance.now();
  await settled(live, SHARDS);
  const tBalanced = performance.now();
  await auditWindow(true);
  const after = checker.report();
  const { orphans, duplicates } = view.audit();
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
  };
}

const killLine = (x: Kill) =>
  `| ${x.k} | ${x.victim} → ${x.replacement} | ${x.rolledAtKill}/${N} | ${s(x.killToConverged)} | ${s(x.rollout)} | ` +
  `${s(x.toBalanced)} | ${x.violations} | ${x.conflicts} | ${x.orphans.length} | ${x.duplicates.length} | ` +
  `${x.leakedEvaluators} | ${x.load} |`;

try {
  out.push(
    `shards — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${new Date().toISOString()}`,
  );
  out.push(
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
  const t = performance.now();
  live.push(...(await Promise.all(Array.from({ length: REPLICAS }, (_, i) => start(`bench-r${i}`, SHARDS)))));
  await converged('v1', live, SHARDS);
  out.push(`${REPLICAS} replicas: start → all converged ${s(performance.now() - t)} (load ${load()})`);
  await settled(live, SHARDS);
  await auditWindow(true);
  const split = owned((await scrapeAll(live)) ?? []);
  out.push(
    `shards held: ${live.map((r) => `${r.identity} ${split.filter((o) => o.labels.replica === r.identity).length}`).join(', ')}`,
  );

  progress(`${KILLS} rollouts, each with a kill -9`);
  for (let k = 1; k <= KILLS; k++) {
    const result = await rolloutWithKill(k, `v${++version}`);
    kills.push(result);
    console.log(killLine(result));
    for (const line of [...result.orphans, ...result.duplicates].slice(0, 20)) console.log(`    ${line}`);
  }

  if (COMPARE) {
    progress(`${REPLICAS} replicas: roll out, re-sync`);
    const three = await rollout(`v${++version}`, live, SHARDS);
    out.push(
      `${REPLICAS} replicas: rollout of every app ${s(three.ms)} (${(N / (three.ms / 1000)).toFixed(2)} apps/s), ` +
        `controllers' CPU ${three.cpu.toFixed(1)} s (${((three.cpu / N) * 1000).toFixed(1)} ms per app) (load ${load()})`,
    );
    for (const r of live.splice(0)) await r.stop();
    await auditWindow(true);
    const sharded = await resync(REPLICAS, SHARDS, 'bench-resync-r');
    const writes3 = await auditWindow(true);
    out.push(
      `${REPLICAS} replicas: re-sync (restart → queues empty, shards split) ${s(sharded.ms)}, ${writes3.writes} writes ` +
        `(audit log), ${writes3.leases} Lease writes apart (load ${load()})`,
    );
    for (const r of sharded.replicas) await r.stop();
    await auditWindow(true);

    progress('one unsharded controller: re-sync, roll out');
    const single = await resync(1, 0, 'bench-single');
    const writes1 = await auditWindow(false);
    out.push(
      `1 replica: re-sync (start → queue empty) ${s(single.ms)}, ${writes1.writes} writes (audit log) (load ${load()})`,
    );
    const one = await rollout(`v${++version}`, single.replicas, 0);
    await auditWindow(false);
    out.push(
      `1 replica: rollout of every app ${s(one.ms)} (${(N / (one.ms / 1000)).toFixed(2)} apps/s), ` +
        `controller CPU ${one.cpu.toFixed(1)} s (${((one.cpu / N) * 1000).toFixed(1)} ms per app) (load ${load()})`,
    );
  }
} finally {
  if (kills.length) {
    out.push(
      '| kill | replica killed → started | apps rolled out at the kill | kill → converged | rollout | → shards split evenly | ' +
        'writes outside shards | conflicts | orphans | duplicates | evaluators left | load |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...kills.map(killLine),
    );
    const sorted = kills.map((x) => x.killToConverged).sort((a, b) => a - b);
    const report = checker.report();
    out.push(
      `${kills.length} kills: kill → converged p50 ${s(sorted[Math.floor(sorted.length / 2)]!)}, max ${s(sorted.at(-1)!)}; ` +
        `orphans ${kills.reduce((a, x) => a + x.orphans.length, 0)}, duplicates ${kills.reduce((a, x) => a + x.duplicates.length, 0)}; ` +
        `audit log: ${report.writes} writes checked from ${report.replicas.length} replicas, ${report.handovers} shard tenures, ` +
        `${report.violations.length} outside the writer's shards, ${report.conflicts.length} conflicts between replicas`,
      ...report.violations.slice(0, 20).map((v) => `  violation: ${v}`),
      ...report.conflicts.slice(0, 20).map((c) => `  conflict: ${c}`),
    );
  }
  out.push(`replicas that ended on their own (replaced): ${crashes.length ? crashes.join('; ') : 'none'}`);
  out.push(`replica processes started: ${every.length}; load at the end ${load()}, ${new Date().toISOString()}`);
  console.log(`\n${out.join('\n')}`);
  for (const r of every) if (r.running()) await r.stop();
  await view.stop();
  await stopTestCluster();
}
