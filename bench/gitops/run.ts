/**
 * `npm run bench:gitops`: GitOps figures, each with its reference measured in the same run.
 *   1. commit-to-applied latency through the push receiver: push a commit changing a ConfigMap,
 *      send the signed notification, time until a watch sees the new value. Reference: a plain
 *      client applying the same ConfigMap, until the same watch sees it.
 *   2. commit-to-applied latency through polling (interval BENCH_GITOPS_INTERVAL, default 2s).
 *   3. a repository of BENCH_GITOPS_APPS applications (Component + ApplicationConfiguration, one
 *      file each; default 500) synced from scratch into an empty namespace. References: the same
 *      objects applied by a plain client (KubeClient server-side apply, one by one and 8 at once)
 *      and by `kubectl apply --server-side`.
 * Real git (smart HTTP with basic auth on 127.0.0.1), a real API server, the controller running as
 * the chart's ServiceAccount. Env: BENCH_GITOPS_N (latency samples, default 20), plus the test
 * control plane's variables.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { GitSync } from '../../apis/generated/gitops.trellis.dev-v1alpha1.js';
import { registerGitOps, signBody } from '../../gitops/index.js';
import { Informer, KubeClient, type KubeObject } from '../../kube/index.js';
import { mapLimit } from '../../lib/map-limit.js';
import { Manager } from '../../runtime/index.js';
import { startTestCluster, stopTestCluster } from '../../test/support/cluster.js';
import { GitHttpServer } from '../../test/support/git-http-server.js';
import { TestRepo } from '../../test/support/git-repo.js';
import { appFiles, appObjects, appYaml, configMapYaml } from './apps.js';
import { percentile } from './stats.js';

const N = Number(process.env.BENCH_GITOPS_N ?? 20);
const APPS = Number(process.env.BENCH_GITOPS_APPS ?? 500);
const INTERVAL = process.env.BENCH_GITOPS_INTERVAL ?? '2s';
const SECRET = 'bench-webhook-secret';
const auth = { username: 'bench', password: 'bench-password' };
const exec = promisify(execFile);
const ms = (n: number) => `${n.toFixed(0)} ms`;
const line = (label: string, samples: number[]) =>
  `  ${label.padEnd(44)} p50 ${ms(percentile(samples, 50))}, p90 ${ms(percentile(samples, 90))}, max ${ms(Math.max(...samples))} (n=${samples.length})`;

const cluster = await startTestCluster(process.env);
const repo = await TestRepo.create();
const server = await GitHttpServer.start({ projectRoot: repo.root, auth });
const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'trellis-bench-git-'));
const controllerKube = await KubeClient.connect({ kubeconfig: cluster.controllerKubeconfig, fieldManager: 'trellis' });
const manager = new Manager({ kube: controllerKube, concurrency: 2 });
const { receiver } = registerGitOps(manager, { cacheDir, receiver: { secret: SECRET } });
const { kube } = cluster;
const out: string[] = [];
const progress = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
try {
  await manager.start();
  const namespace = async (name: string) => {
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    return name;
  };
  const gitSync = (ns: string, spec: Partial<GitSync['spec']>) =>
    kube.apply({
      apiVersion: 'gitops.trellis.dev/v1alpha1',
      kind: 'GitSync',
      metadata: { name: 'bench', namespace: ns },
      spec: {
        url: server.urlFor('apps.git'),
        ref: { branch: 'main' },
        secretRef: { name: 'git' },
        interval: '10m',
        ...spec,
      },
    });
  const secret = (ns: string) =>
    kube.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'git', namespace: ns }, stringData: auth });

  // A watch on the ConfigMap the latency runs change: resolves when it holds the value.
  const watchValue = async (ns: string) => {
    const informer = new Informer(kube, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: ns,
      fieldSelector: 'metadata.name=latency',
    });
    const waiters = new Map<string, () => void>();
    const seen = (o: KubeObject) => {
      const v = (o.data as Record<string, string> | undefined)?.v;
      if (v && waiters.has(v)) {
        waiters.get(v)!();
        waiters.delete(v);
      }
    };
    informer.on({ add: seen, update: seen });
    await informer.start();
    const current = () => (informer.list()[0]?.data as Record<string, string> | undefined)?.v;
    // Resolves at once when the value is already there (a poll may beat the registration).
    const until = (v: string) =>
      new Promise<void>((resolve) => (current() === v ? resolve() : waiters.set(v, resolve)));
    return { until, stop: () => informer.stop() };
  };
  const notify = async () => {
    const body = JSON.stringify({ ref: 'refs/heads/main', repository: { clone_url: server.urlFor('apps.git') } });
    const res = await fetch(receiver!.url, {
      method: 'POST',
      body,
      headers: { 'x-hub-signature-256': signBody(SECRET, body), 'content-type': 'application/json' },
    });
    if (res.status !== 202) throw new Error(`receiver answered ${res.status}`);
  };

  // 1 + 2: latency.
  const nsLatency = await namespace('bench-gitops-latency');
  await secret(nsLatency);
  await repo.commit({ 'latency.yaml': configMapYaml('latency', 'start') });
  const watch = await watchValue(nsLatency);
  const started = watch.until('start');
  await gitSync(nsLatency, {});
  await started;
  const viaReceiver: number[] = [];
  const plain: number[] = [];
  for (let i = 0; i < N + 2; i++) {
    await repo.commit({ 'latency.yaml': configMapYaml('latency', `push-${i}`) });
    const t0 = performance.now();
    const applied = watch.until(`push-${i}`);
    await notify();
    await applied;
    if (i >= 2) viaReceiver.push(performance.now() - t0); // two warm-up rounds
    const t1 = performance.now();
    const direct = watch.until(`plain-${i}`);
    await kube.apply(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'latency', namespace: nsLatency },
        data: { v: `plain-${i}` },
      },
      { fieldManager: 'bench-plain' },
    );
    await direct;
    if (i >= 2) plain.push(performance.now() - t1);
    // Put the value back to Git's, so the next commit's sync is a real change.
    await kube.apply(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'latency', namespace: nsLatency },
        data: { v: `push-${i}` },
      },
      { fieldManager: 'bench-plain' },
    );
  }
  await kube.patch(
    { apiVersion: 'gitops.trellis.dev/v1alpha1', kind: 'GitSync', name: 'bench', namespace: nsLatency },
    { spec: { interval: INTERVAL } },
  );
  const viaPolling: number[] = [];
  for (let i = 0; i < Math.max(4, Math.round(N / 2)); i++) {
    await repo.commit({ 'latency.yaml': configMapYaml('latency', `poll-${i}`) });
    const t0 = performance.now();
    await watch.until(`poll-${i}`);
    viaPolling.push(performance.now() - t0);
  }
  await kube.delete({
    apiVersion: 'gitops.trellis.dev/v1alpha1',
    kind: 'GitSync',
    name: 'bench',
    namespace: nsLatency,
  });
  await watch.stop();
  progress('latency done');
  out.push('commit-to-applied latency (push done → a watch sees the new value):');
  out.push(line('through the push receiver', viaReceiver));
  out.push(line(`through polling (interval ${INTERVAL})`, viaPolling));
  out.push(line('reference: plain client applies the object', plain));

  // 3: APPS applications from scratch.
  await repo.commit({ 'latency.yaml': null, ...appFiles(APPS) }, `${APPS} applications`);
  const head = await repo.head();
  const objects = appObjects(APPS);
  const nsSync = await namespace('bench-gitops-scale');
  await secret(nsSync);
  const t0 = performance.now();
  await gitSync(nsSync, { path: 'apps' });
  let gs: GitSync | undefined;
  for (;;) {
    gs = await kube.get<GitSync & KubeObject>({
      apiVersion: 'gitops.trellis.dev/v1alpha1',
      kind: 'GitSync',
      name: 'bench',
      namespace: nsSync,
    });
    if (gs.status?.lastAppliedCommit === head) break;
    if (gs.status?.history?.[0] && gs.status.history[0].result !== 'Applied' && gs.status.history[0].commit === head)
      throw new Error(`sync failed: ${gs.status.history[0].message}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const gitops = performance.now() - t0;
  progress(`${APPS} applications synced by GitSync in ${ms(gitops)}`);
  const syncMs = gs.status!.history![0]!.durationMs!;
  const t1 = performance.now();
  const resync = await (async () => {
    await kube.patch(
      { apiVersion: 'gitops.trellis.dev/v1alpha1', kind: 'GitSync', name: 'bench', namespace: nsSync },
      { metadata: { annotations: { 'gitops.trellis.dev/requested-at': 'bench' } } },
    );
    for (;;) {
      const g = await kube.get<GitSync & KubeObject>({
        apiVersion: 'gitops.trellis.dev/v1alpha1',
        kind: 'GitSync',
        name: 'bench',
        namespace: nsSync,
      });
      if (g.status?.history?.[0]?.result === 'Unchanged') return g.status.history[0].durationMs!;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const resyncWall = performance.now() - t1;

  // One application changed in the 500-application repository, through the receiver.
  const oneChange: number[] = [];
  for (let i = 0; i < 5; i++) {
    const image = `registry.example.com/app-0007:changed-${i}`;
    await repo.commit({ 'apps/app-0007.yaml': appYaml(7).replace(/registry\.example\.com\/app-0007:1\.0\.7/g, image) });
    const t = performance.now();
    await notify();
    for (;;) {
      const c = await kube.get({
        apiVersion: 'core.oam.dev/v1alpha2',
        kind: 'Component',
        name: 'app-0007',
        namespace: nsSync,
      });
      if (JSON.stringify(c.spec).includes(image)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    oneChange.push(performance.now() - t);
  }
  progress('one change in the large repository done');

  const plainInto = async (ns: string, concurrency: number) => {
    await namespace(ns);
    const start = performance.now();
    await mapLimit(
      objects.filter((o) => o.kind === 'Component'),
      concurrency,
      (o) => kube.apply({ ...o, metadata: { ...o.metadata, namespace: ns } }, { fieldManager: 'bench-plain' }),
    );
    await mapLimit(
      objects.filter((o) => o.kind !== 'Component'),
      concurrency,
      (o) => kube.apply({ ...o, metadata: { ...o.metadata, namespace: ns } }, { fieldManager: 'bench-plain' }),
    );
    return performance.now() - start;
  };
  const plainSerial = await plainInto('bench-gitops-plain-1', 1);
  progress(`plain client, one at a time: ${ms(plainSerial)}`);
  const plainParallel = await plainInto('bench-gitops-plain-8', 8);
  progress(`plain client, 8 at a time: ${ms(plainParallel)}`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'trellis-bench-kubectl-'));
  for (const [file, content] of Object.entries(appFiles(APPS)))
    await writeFile(path.join(dir, path.basename(file)), content);
  await namespace('bench-gitops-kubectl');
  const t2 = performance.now();
  await exec(
    'kubectl',
    [
      '--kubeconfig',
      cluster.kubeconfig,
      'apply',
      '--server-side',
      '--field-manager=bench-kubectl',
      '-n',
      'bench-gitops-kubectl',
      '-f',
      dir,
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const kubectl = performance.now() - t2;
  progress(`kubectl: ${ms(kubectl)}`);
  await rm(dir, { recursive: true, force: true });

  out.push(`${APPS} applications (${objects.length} objects, ${APPS} files) synced from scratch:`);
  out.push(
    `  GitSync created → Applied (wall)              ${ms(gitops)} (the sync itself: ${ms(syncMs)}: fetch, parse, ${objects.length} dry runs, ${objects.length} applies)`,
  );
  out.push(`  re-sync of the same commit (drift check)      ${ms(resyncWall)} wall, ${ms(resync)} sync`);
  out.push(line('commit changing 1 of them, through the receiver', oneChange).replace(/^  /, '  '));
  out.push(`  reference: plain client, one at a time        ${ms(plainSerial)}`);
  out.push(`  reference: plain client, 8 at a time          ${ms(plainParallel)}`);
  out.push(`  reference: kubectl apply --server-side -f dir ${ms(kubectl)}`);

  for (const ns of [
    'bench-gitops-latency',
    'bench-gitops-scale',
    'bench-gitops-plain-1',
    'bench-gitops-plain-8',
    'bench-gitops-kubectl',
  ])
    await kube.delete({ apiVersion: 'v1', kind: 'Namespace', name: ns });
  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  console.log(
    `\ngitops — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load ${load}, ${new Date().toISOString()}`,
  );
  console.log(out.join('\n'));
} finally {
  await manager.stop();
  controllerKube.close();
  await server.stop();
  await repo.cleanup();
  await rm(cacheDir, { recursive: true, force: true });
  await stopTestCluster();
}
