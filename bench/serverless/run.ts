/**
 * `npm run bench:serverless`: the scale-to-zero runtime against its references, in one run, with
 * examples/function-hello's handler:
 *   1. warm path: latency p50/p99 through the activator vs calling the instance directly (and vs a
 *      minimal Node proxy), and serve mode's path (an instance with its meter, called directly) vs
 *      direct, and the kubernetes backend's serve path (through `trellis queue-proxy`, the pod's sidecar)
 *      vs direct, open loop at each rate; requests per CPU-second of the activator process
 *      vs the plain proxy's and the handler's own; the activator splitting 90/10 between two
 *      revisions vs serving one (what weighted routing adds);
 *   2. cold start through the real runtime and API server (request at zero → first byte) vs the bare
 *      `node handler.js` start → first byte; and request → scale-up written.
 *   3. activator HA: two `trellis serverless` replicas, the leader killed (SIGKILL) while GETs flow
 *      at BENCH_SERVERLESS_KILL_RATE (1000) rps: sent, answered, cut (inside the killed replica, sent
 *      again), refused (sent to the dead one, went to the other), lost, p50/p99.
 * Bounded: BENCH_SERVERLESS_RATES (500,1000), BENCH_SERVERLESS_SECONDS per series (1),
 * BENCH_SERVERLESS_ROUNDS (6), BENCH_SERVERLESS_COLD cycles (8), BENCH_SERVERLESS_KILLS (5, each
 * BENCH_SERVERLESS_KILL_SECONDS 6 long, the kill at a third), BENCH_SERVERLESS_ZERO_CYCLES (1000
 * scale-to-zero cycles under load, part `zero`); BENCH_SERVERLESS_PARTS picks (warm,cold,ha,zero).
 */
import os from 'node:os';
import { startTestCluster, stopTestCluster } from '../../test/support/cluster.js';
import { percentile } from '../webhook/stats.js';
import { measureCold } from './cold.js';
import { measureZeroCycles } from './cycles.js';
import { measureKills } from './ha.js';
import { measureWarm, type Series } from './warm.js';

const rates = (process.env.BENCH_SERVERLESS_RATES ?? '500,1000').split(',').map(Number);
const seconds = Number(process.env.BENCH_SERVERLESS_SECONDS ?? 1);
const rounds = Number(process.env.BENCH_SERVERLESS_ROUNDS ?? 6);
const cycles = Number(process.env.BENCH_SERVERLESS_COLD ?? 8);
const kills = Number(process.env.BENCH_SERVERLESS_KILLS ?? 5);
const killRate = Number(process.env.BENCH_SERVERLESS_KILL_RATE ?? 1000);
const killSeconds = Number(process.env.BENCH_SERVERLESS_KILL_SECONDS ?? 6);
const zeroCycles = Number(process.env.BENCH_SERVERLESS_ZERO_CYCLES ?? 1000);
const parts = new Set((process.env.BENCH_SERVERLESS_PARTS ?? 'warm,cold,ha,zero').split(','));

const ms = (v: number) => v.toFixed(2);
const signed = (v: number) => `${v >= 0 ? '+' : ''}${ms(v)}`;
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
console.log(
  `bench:serverless — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${os.release()}, load ${load()}, ${new Date().toISOString()}`,
);

const warm = parts.has('warm') ? await measureWarm({ rates, seconds, rounds }) : [];
const line = (s: Series) => `p50 ${ms(s.p50)} ms, p99 ${ms(s.p99)} ms (n=${s.n}, errors ${s.errors})`;
if (warm.length)
  console.log(`\nwarm path, open loop, ${rounds} × ${seconds} s per series, interleaved (load ${load()})`);
const perCpu = (s: Series, cpu: number) => (cpu > 0 ? Math.round(s.n / cpu).toString() : 'n/a');
for (const r of warm) {
  console.log(`  ${r.rate} rps  direct       ${line(r.direct)}`);
  console.log(`  ${r.rate} rps  serve mode   ${line(r.served)}  (a metered instance, called directly)`);
  console.log(`  ${r.rate} rps  twin         ${line(r.twin)}  (the same without the meter)`);
  console.log(`  ${r.rate} rps  queue-proxy  ${line(r.queued)}  (the kubernetes backend's sidecar in front of it)`);
  console.log(`  ${r.rate} rps  plain proxy  ${line(r.plain)}`);
  console.log(`  ${r.rate} rps  activator    ${line(r.activator)}`);
  console.log(`  ${r.rate} rps  split 90/10  ${line(r.split)}`);
  console.log(
    `  ${r.rate} rps  added by serve mode vs direct  p50 ${signed(r.served.p50 - r.direct.p50)} ms, p99 ${signed(r.served.p99 - r.direct.p99)} ms; by the meter (vs its twin)  p50 ${signed(r.served.p50 - r.twin.p50)} ms, p99 ${signed(r.served.p99 - r.twin.p99)} ms`,
  );
  console.log(
    `  ${r.rate} rps  added by the queue-proxy (kubernetes serve mode) vs direct  p50 +${ms(r.queued.p50 - r.direct.p50)} ms, p99 +${ms(r.queued.p99 - r.direct.p99)} ms; vs the plain proxy p50 ${signed(r.queued.p50 - r.plain.p50)} ms, p99 ${signed(r.queued.p99 - r.plain.p99)} ms; ${perCpu(r.queued, r.queued.proxyCpu)} requests per CPU-second`,
  );
  console.log(
    `  ${r.rate} rps  added by the activator  p50 +${ms(r.activator.p50 - r.direct.p50)} ms, p99 +${ms(r.activator.p99 - r.direct.p99)} ms (plain proxy: p50 +${ms(r.plain.p50 - r.direct.p50)} ms, p99 +${ms(r.plain.p99 - r.direct.p99)} ms)`,
  );
  console.log(
    `  ${r.rate} rps  added by weighted routing (90/10 between two revisions vs one revision)  p50 ${signed(r.split.p50 - r.activator.p50)} ms, p99 ${signed(r.split.p99 - r.activator.p99)} ms`,
  );
  console.log(
    `  ${r.rate} rps  requests per CPU-second: activator ${perCpu(r.activator, r.activator.proxyCpu)}, plain proxy ${perCpu(r.plain, r.plain.proxyCpu)}, handler itself ${perCpu(r.direct, r.direct.handlerCpu)}, metered handler ${perCpu(r.served, r.served.handlerCpu)}, its twin ${perCpu(r.twin, r.twin.handlerCpu)}`,
  );
}

const cold = parts.has('cold') && cycles > 0;
const ha = parts.has('ha') && kills > 0;
const zero = parts.has('zero') && zeroCycles > 0;
if (cold || ha || zero) {
  const cluster = await startTestCluster(process.env);
  try {
    if (cold) await coldStart(cluster.kube);
    if (ha) await killed(cluster.kube);
    if (zero) await toZero(cluster.kube);
  } finally {
    await stopTestCluster();
  }
}

async function coldStart(kube: Parameters<typeof measureCold>[0]): Promise<void> {
  const samples = await measureCold(kube, cycles);
  const stat = (k: 'coldMs' | 'scaleWrittenMs' | 'bareMs') => {
    const v = samples.map((s) => s[k]);
    return `p50 ${ms(percentile(v, 50))} ms, max ${ms(Math.max(...v))} ms`;
  };
  const overhead = samples.map((s) => s.coldMs - s.bareMs);
  console.log(`\ncold start, ${samples.length} cycles (load ${load()})`);
  console.log(`  request at zero → first byte (runtime)   ${stat('coldMs')}`);
  console.log(`  bare node handler.js → first byte        ${stat('bareMs')}`);
  console.log(
    `  platform overhead (cold − bare, per cycle) p50 ${ms(percentile(overhead, 50))} ms, max ${ms(Math.max(...overhead))} ms`,
  );
  console.log(`  request → scale-up written (watch)       ${stat('scaleWrittenMs')}`);
}

async function killed(kube: Parameters<typeof measureKills>[0]): Promise<void> {
  const results = await measureKills(kube, { kills, rate: killRate, seconds: killSeconds, killAt: killSeconds / 3 });
  console.log(
    `\nactivator HA: the leader of 2 replicas killed (SIGKILL) at ${killRate} rps, ${kills} runs of ${killSeconds} s (load ${load()})`,
  );
  for (const [i, r] of results.entries()) {
    console.log(
      `  run ${i + 1}: sent ${r.sent}, answered 200 ${r.ok}, lost ${r.lost.length}, cut (inside the killed one, sent again) ${r.cut}, in flight to it at the kill ${r.inFlightAtKill}, refused (went to the other) ${r.refused}, cut by the survivor ${r.cutBySurvivor}, p50 ${ms(r.p50)} ms, p99 ${ms(r.p99)} ms`,
    );
  }
  const sum = (k: 'sent' | 'ok' | 'cut' | 'refused') => results.reduce((n, r) => n + r[k], 0);
  console.log(
    `  total: sent ${sum('sent')}, answered ${sum('ok')}, lost ${results.reduce((n, r) => n + r.lost.length, 0)}, cut ${sum('cut')}, refused ${sum('refused')}`,
  );
}

async function toZero(kube: Parameters<typeof measureZeroCycles>[0]): Promise<void> {
  const started = performance.now();
  const r = await measureZeroCycles(kube, zeroCycles, (done) => {
    if (done % 50 === 0) console.log(`  … ${done} cycles (load ${load()})`);
  });
  const sorted = [...r.cycleMs].sort((a, b) => a - b);
  console.log(
    `\nscale-to-zero cycles under load: ${r.cycles} in ${ms((performance.now() - started) / 1000)} s (load ${load()})`,
  );
  console.log(
    `  requests sent ${r.sent}, not answered 200: ${r.failures.length}; cycle p50 ${ms(percentile(sorted, 50))} ms, p99 ${ms(percentile(sorted, 99))} ms, max ${ms(sorted[sorted.length - 1] ?? 0)} ms`,
  );
  for (const f of r.failures.slice(0, 10)) console.log(`    ${f}`);
}
