/**
 * `npm run bench:rollout`: progressive delivery against its references, in one run:
 *   1. weighted routing in the activator: latency p50/p99 of a 90/10 split between two revisions vs
 *      the same activator serving one revision (and vs the instance called directly), open loop,
 *      series interleaved (bench/serverless' warm path, examples/function-hello's handler); requests
 *      per CPU-second of the activator both ways; the weighted choice alone (ns per pick, 1 vs 2, 4 targets);
 *   2. split accuracy: the new revision's share of the answers at 10 %, 1 % and 50 %, overall and
 *      at worst over windows of 100 and 1,000 consecutive answers;
 *   3. time to rollback on the real test control plane with a real Prometheus: a failing analysis
 *      (counters turn bad → Prometheus answers it → Rollout RolledBack → HTTPRoute all stable) vs
 *      the same state aborted by a person (the annotation `trellis rollout abort` writes).
 * Bounded: BENCH_ROLLOUT_RATES (500,1000), BENCH_ROLLOUT_SECONDS per series (1), BENCH_ROLLOUT_ROUNDS (4),
 * BENCH_ROLLOUT_REQUESTS per split (10000), BENCH_ROLLOUT_CYCLES of each kind (5; 0 skips the control
 * plane), BENCH_ROLLOUT_INTERVAL (scrape and analysis interval, 1s).
 */
import os from 'node:os';
import { startTestCluster, stopTestCluster } from '../../test/support/cluster.js';
import { measureWarm, type Series } from '../serverless/warm.js';
import { percentile } from '../webhook/stats.js';
import { measureAccuracy } from './accuracy.js';
import { measurePick } from './pick.js';
import { measureRollback, type RollbackSample } from './rollback.js';

const rates = (process.env.BENCH_ROLLOUT_RATES ?? '500,1000').split(',').map(Number);
const seconds = Number(process.env.BENCH_ROLLOUT_SECONDS ?? 1);
const rounds = Number(process.env.BENCH_ROLLOUT_ROUNDS ?? 4);
const requests = Number(process.env.BENCH_ROLLOUT_REQUESTS ?? 10_000);
const cycles = Number(process.env.BENCH_ROLLOUT_CYCLES ?? 5);
const interval = process.env.BENCH_ROLLOUT_INTERVAL ?? '1s';

const ms = (v: number) => v.toFixed(2);
const signed = (v: number) => `${v >= 0 ? '+' : ''}${ms(v)}`;
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
const progress = (line: string) => process.stderr.write(`[bench] ${line}\n`);
console.log(
  `bench:rollout — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${os.release()}, load ${load()}, ${new Date().toISOString()}`,
);

const warm = await measureWarm({ rates, seconds, rounds });
const line = (s: Series) => `p50 ${ms(s.p50)} ms, p99 ${ms(s.p99)} ms (n=${s.n}, errors ${s.errors})`;
console.log(
  `\n1. weighted routing in the activator, open loop, ${rounds} × ${seconds} s per series, interleaved (load ${load()})`,
);
for (const r of warm) {
  console.log(`  ${r.rate} rps  direct (reference)        ${line(r.direct)}`);
  console.log(`  ${r.rate} rps  activator, one revision   ${line(r.activator)}`);
  console.log(`  ${r.rate} rps  activator, split 90/10    ${line(r.split)}`);
  console.log(
    `  ${r.rate} rps  added by weighted routing p50 ${signed(r.split.p50 - r.activator.p50)} ms, p99 ${signed(r.split.p99 - r.activator.p99)} ms`,
  );
  const perCpu = (s: Series) => (s.proxyCpu > 0 ? Math.round(s.n / s.proxyCpu).toString() : 'n/a');
  console.log(
    `  ${r.rate} rps  requests per CPU-second of the activator: one revision ${perCpu(r.activator)}, split ${perCpu(r.split)}`,
  );
}
const picks = measurePick(5_000_000);
console.log(
  `  the choice alone (Route.pick, best of 5 × 5,000,000): ${picks.map((p) => `${p.targets} target${p.targets > 1 ? 's' : ''} ${p.nsPerPick.toFixed(1)} ns`).join(', ')}`,
);

console.log(`\n2. split accuracy, ${requests} requests per split, 20 in flight (load ${load()})`);
for (const percent of [10, 1, 50]) {
  const a = await measureAccuracy({ percent, requests, concurrency: 20 });
  const worst = Object.entries(a.worstWindow)
    .map(([size, d]) => `±${d.toFixed(1)} points over ${size}`)
    .join(', ');
  console.log(
    `  ${100 - percent}/${percent}  new revision's share ${a.share.toFixed(2)} % (errors ${a.errors}); worst window ${worst}`,
  );
}

if (cycles > 0) {
  const cluster = await startTestCluster(process.env);
  try {
    const samples = await measureRollback(cluster, { cycles, interval, progress });
    const stat = (list: RollbackSample[], k: 'promMs' | 'statusMs' | 'routeMs') => {
      const v = list.map((s) => s[k] ?? NaN);
      return `p50 ${percentile(v, 50).toFixed(0)} ms, max ${Math.max(...v).toFixed(0)} ms`;
    };
    const analysis = samples.filter((s) => s.kind === 'analysis');
    const abort = samples.filter((s) => s.kind === 'abort');
    const acting = analysis.map((s) => s.routeMs - s.promMs!);
    console.log(
      `\n3. time to rollback, ${cycles} cycles each, scrape and analysis interval ${interval} (load ${load()})`,
    );
    console.log(`  failing analysis: counters bad → Prometheus answers it  ${stat(analysis, 'promMs')}`);
    console.log(`  failing analysis: → Rollout RolledBack                 ${stat(analysis, 'statusMs')}`);
    console.log(`  failing analysis: → HTTPRoute 100 % stable             ${stat(analysis, 'routeMs')}`);
    console.log(
      `  of which after Prometheus answered (next measurement + acting) p50 ${percentile(acting, 50).toFixed(0)} ms, max ${Math.max(...acting).toFixed(0)} ms`,
    );
    console.log(`  abort (reference): annotation → Rollout Aborted        ${stat(abort, 'statusMs')}`);
    console.log(`  abort (reference): → HTTPRoute 100 % stable            ${stat(abort, 'routeMs')}`);
  } finally {
    await stopTestCluster();
  }
}
