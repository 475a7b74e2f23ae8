/**
 * `npm run bench:render`: render throughput of 1,000 applications (2 components, 3 traits each)
 * through renderApplication with the built-in catalog, in one run:
 *   1. reference: one CUE call per template evaluation (the engine with batches of 1 and no cache),
 *      on a sample of the apps — what rendering without batching would cost;
 *   2. cold: every app once, nothing cached (the engine's workers already started);
 *   3. warm: every app again (answers from the content-hash cache);
 *   4. cold again on a second engine whose CUE runs collect garbage (Go's default GOGC), the
 *      reference for the engine's default of GOGC=off.
 * Apps render with BENCH_RENDER_INFLIGHT in flight at once (default 200), so per-app latency there
 * includes waiting for the others; latency of one app alone is measured on BENCH_RENDER_SAMPLE more
 * apps rendered one at a time (cold) and on the cached apps one at a time (warm). CPU is the whole
 * process's (main thread and CUE workers) per app — fairer than wall time on a shared machine.
 * Env: BENCH_RENDER_APPS (1000), BENCH_RENDER_SAMPLE (10), BENCH_RENDER_MAX_BATCH (the engine's default).
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { renderApplication } from '../../application/index.js';
import { builtinCatalog } from '../../definitions/index.js';
import { staticComponents } from '../../render/index.js';
import { CueEngine } from '../../cue/index.js';
import { benchApp, type BenchApp } from './apps.js';

const APPS = Number(process.env.BENCH_RENDER_APPS ?? 1000);
const INFLIGHT = Number(process.env.BENCH_RENDER_INFLIGHT ?? 200);
const SAMPLE = Number(process.env.BENCH_RENDER_SAMPLE ?? 10);
const MAX_BATCH = process.env.BENCH_RENDER_MAX_BATCH ? { maxBatch: Number(process.env.BENCH_RENDER_MAX_BATCH) } : {};

interface Pass {
  apps: number;
  seconds: number;
  perApp: number[];
  objects: number;
  /** CPU time of the whole process (main thread and CUE workers) per app, ms: fairer than wall time on a shared machine. */
  cpuPerApp: number;
}

const definitions = builtinCatalog();

async function pass(engine: CueEngine, apps: BenchApp[], inflight: number): Promise<Pass> {
  const perApp: number[] = [];
  let objects = 0;
  let next = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  const lane = async () => {
    while (next < apps.length) {
      const { appConfig, components } = apps[next++];
      const t = performance.now();
      const app = await renderApplication({ appConfig, components: staticComponents(components), definitions, engine });
      perApp.push(performance.now() - t);
      objects += app.objects.length;
    }
  };
  await Promise.all(Array.from({ length: Math.min(inflight, apps.length) }, lane));
  const used = process.cpuUsage(cpu);
  return { apps: apps.length, seconds: (performance.now() - started) / 1000, perApp, objects, cpuPerApp: (used.user + used.system) / 1000 / apps.length };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const line = (label: string, r: Pass) =>
  `  ${label.padEnd(34)} ${(r.apps / r.seconds).toFixed(1).padStart(8)} apps/s   p50 ${pct(r.perApp, 50).toFixed(1).padStart(8)} ms   p99 ${pct(r.perApp, 99).toFixed(1).padStart(8)} ms   CPU ${r.cpuPerApp.toFixed(2).padStart(7)} ms/app   (${r.apps} apps, ${r.objects} objects, ${r.seconds.toFixed(2)} s)`;

const apps = Array.from({ length: APPS }, (_, i) => benchApp(i));
const sample = Array.from({ length: SAMPLE }, (_, i) => benchApp(APPS + i));
const warmup = benchApp(APPS + SAMPLE);

// Reference: one CUE call per template evaluation, same worker count, nothing cached.
const naive = new CueEngine({ maxBatch: 1, cacheSize: 0 });
await pass(naive, [warmup], 1);
const reference = await pass(naive, sample, INFLIGHT);
const naiveStats = { ...naive.stats };
await naive.stop();

const engine = new CueEngine({ ...MAX_BATCH });
const startup = performance.now();
await pass(engine, [warmup], 1);
const startupMs = performance.now() - startup;
const before = { ...engine.stats };
const cold = await pass(engine, apps, INFLIGHT);
const afterCold = { ...engine.stats };
const warm = await pass(engine, apps, INFLIGHT);
const afterWarm = { ...engine.stats };
const coldAlone = await pass(engine, Array.from({ length: SAMPLE }, (_, i) => benchApp(APPS + SAMPLE + 1 + i)), 1);
const warmAlone = await pass(engine, apps, 1);
await engine.stop();

// The cold pass again with Go's garbage collector on inside the CUE runs (goGC: undefined, Go's
// default GOGC=100), which is what the engine did before it ran them with GOGC=off.
const collecting = new CueEngine({ goGC: undefined, ...MAX_BATCH });
await pass(collecting, [warmup], 1);
const coldCollecting = await pass(collecting, apps, INFLIGHT);
await collecting.stop();

const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
console.log(`\nrender throughput — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load ${load}, ${new Date().toISOString()}`);
console.log(`  ${APPS} apps × (2 components, 3 traits each) = ${APPS * 8} template evaluations per pass; ${INFLIGHT} apps in flight`);
console.log(line('reference: one CUE call/template', reference));
console.log(line('cold (batched, empty cache)', cold));
console.log(line('cold, Go GC on in CUE runs', coldCollecting));
console.log(line('warm (cached)', warm));
console.log(line('cold, one app at a time', coldAlone));
console.log(line('warm, one app at a time', warmAlone));
console.log(`  cold vs reference: ${((cold.apps / cold.seconds) / (reference.apps / reference.seconds)).toFixed(1)}× the apps/s`);
console.log(`  cold vs cold with Go GC on: ${((cold.apps / cold.seconds) / (coldCollecting.apps / coldCollecting.seconds)).toFixed(2)}× the apps/s, ${(coldCollecting.cpuPerApp / cold.cpuPerApp).toFixed(2)}× less CPU per app (${engine.stats.collectedReruns} runs needed the collector)`);
console.log(`  warm vs cold:      ${((warm.apps / warm.seconds) / (cold.apps / cold.seconds)).toFixed(1)}× the apps/s`);
console.log(`  CUE runs: reference ${naiveStats.invocations} for ${sample.length + 1} apps; cold ${afterCold.invocations - before.invocations} runs for ${afterCold.evaluated - before.evaluated} evaluations; warm ${afterWarm.invocations - afterCold.invocations} runs`);
console.log(`  worker start-up + first render (excluded above): ${startupMs.toFixed(0)} ms`);
