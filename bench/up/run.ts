/**
 * `npm run bench:up`: how long `trellis up` takes until it prints "Trellis is up", in one run:
 *   1. reference: the bare control plane (etcd, kube-apiserver, kube-controller-manager, scheduler,
 *      kwok with one node — ControlPlane.start(), what the tests start) from an empty data folder;
 *   2. `trellis up` (a real `bin/trellis.js` process) from an empty data folder: the control plane
 *      plus CRDs, built-in definitions, webhook, controllers and the serverless runtime;
 *   3. `trellis up` again on the data folder of 2 (a restart: certificates and data kept);
 *   4. `trellis up examples/quickstart` (applies the README tour's application).
 * BENCH_UP_RUNS (default 3) runs of each; the median and the spread are printed (0: only the cold run).
 * With `--cold` (or BENCH_UP_COLD=1), one more `trellis up` first, with empty Go and Trellis caches
 * (GOCACHE, GOMODCACHE, XDG_CACHE_HOME in a temporary folder): the first run on a new machine,
 * which builds Kubernetes and kwok from their Go modules (downloads go through the Go module proxy).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ControlPlane, ensureBinaries, KUBE_TOOL, KWOK_TOOL, userCacheDir } from '../../controlplane/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUNS = Number(process.env.BENCH_UP_RUNS ?? 3);
const COLD = process.argv.includes('--cold') || process.env.BENCH_UP_COLD === '1';

/** Starts `trellis up`, resolves with the seconds until "Trellis is up", then stops it with SIGINT. */
function up(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [path.join(root, 'bin', 'trellis.js'), 'up', ...args, '--functions-port', '0'],
      { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    let seconds: number | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      if (seconds === undefined && out.includes('Trellis is up')) {
        seconds = (performance.now() - started) / 1000;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d;
      if (COLD && seconds === undefined) process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      seconds === undefined
        ? reject(new Error(`trellis up exited ${code} before it was up:\n${err}`))
        : resolve(seconds),
    );
  });
}

async function bareControlPlane(): Promise<number> {
  const cacheDir = userCacheDir(process.env);
  const binaries = {
    ...(await ensureBinaries(KUBE_TOOL, { cacheDir, env: process.env })),
    ...(await ensureBinaries(KWOK_TOOL, { cacheDir, env: process.env })),
  };
  const started = performance.now();
  const cp = new ControlPlane({ binaries, nodePath: process.execPath, nodes: 1 });
  await cp.start();
  const seconds = (performance.now() - started) / 1000;
  await cp.stop();
  return seconds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const show = (label: string, xs: number[]) =>
  console.log(`${label.padEnd(48)} median ${median(xs).toFixed(1)} s   (${xs.map((x) => x.toFixed(1)).join(', ')})`);

const scratch = await mkdtemp(path.join(os.tmpdir(), 'trellis-bench-up-'));
try {
  console.log(
    `bench:up — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}, ${new Date().toISOString()}`,
  );
  if (COLD) {
    const caches = path.join(scratch, 'cold');
    const env = {
      ...process.env,
      XDG_CACHE_HOME: path.join(caches, 'xdg'),
      GOCACHE: path.join(caches, 'gocache'),
      GOMODCACHE: path.join(caches, 'gomod'),
    };
    const seconds = await up(['--data-dir', path.join(scratch, 'cold-data')], env);
    show('trellis up, cold (builds Kubernetes + kwok)', [seconds]);
    await rm(caches, { recursive: true, force: true }).catch(() => {});
  }
  const bare: number[] = [];
  const fresh: number[] = [];
  const restart: number[] = [];
  const quickstart: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    bare.push(await bareControlPlane());
    const data = path.join(scratch, `data-${i}`);
    fresh.push(await up(['--data-dir', data], process.env));
    restart.push(await up(['--data-dir', data], process.env));
    quickstart.push(await up(['examples/quickstart', '--data-dir', path.join(scratch, `qs-${i}`)], process.env));
  }
  if (RUNS > 0) {
    show('reference: bare control plane (ControlPlane.start)', bare);
    show('trellis up, empty data folder', fresh);
    show('trellis up, restart on its data folder', restart);
    show('trellis up examples/quickstart', quickstart);
    console.log(
      `trellis up over the bare control plane: +${(median(fresh) - median(bare)).toFixed(1)} s (CRDs, definitions, webhook, controllers, serverless runtime)`,
    );
  }
} finally {
  await rm(scratch, { recursive: true, force: true });
}
