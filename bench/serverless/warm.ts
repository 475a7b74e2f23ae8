import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile } from '../webhook/stats.js';
import { freePort } from '../../lib/ports.js';
import { METER_PORT_ENV, withMeterPreload, writeMeterPreload } from '../../serverless/meter/instance-meter.js';
import { cpuSeconds, startHandler, stopChild, waitListening } from './processes.js';

export interface WarmOptions {
  /** Request rates to measure at, each open loop. */
  rates: number[];
  /** Seconds per series. */
  seconds: number;
  /** Rounds of (direct, twin, served, queued, plain proxy, activator, split) per rate, interleaved so drift hits all alike. */
  rounds: number;
}

export interface Series {
  n: number;
  errors: number;
  p50: number;
  p99: number;
  /** CPU seconds of the handler process during the series. */
  handlerCpu: number;
  /** CPU seconds of the proxy in the path (plain proxy or activator) during the series; 0 for direct. */
  proxyCpu: number;
}

export interface WarmResult {
  rate: number;
  /** The reference: the instance called directly. */
  direct: Series;
  /**
   * Serve mode's path (docs/adr/0017): a second instance of the same handler with the instance meter
   * preloaded, called directly as a Service in serve mode routes to it.
   */
  served: Series;
  /**
   * The reference for `served`: a third instance of the handler without the meter, used only by its
   * own series as the metered one is (the direct one also serves every proxy series: hotter caches).
   */
  twin: Series;
  /**
   * Serve mode's path on the kubernetes backend: the instance called through `trellis queue-proxy`
   * (the pod's sidecar, a process of its own, serverless/meter/queue-proxy.ts).
   */
  queued: Series;
  /** A second reference: a minimal Node keep-alive proxy, the floor of any proxy written in Node. */
  plain: Series;
  activator: Series;
  /** The activator with a 90/10 split between two revisions (of the same instance). */
  split: Series;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));

/**
 * Warm-path latency: the same handler process (examples/function-hello), called directly, through
 * a minimal Node proxy, and through the activator (each proxy a process of its own, as in the
 * runtime); and a second instance of it with the instance meter preloaded, called directly (serve
 * mode's path); open loop at each rate over keep-alive connections. Latency runs from `http.request`
 * to the end of the response.
 */
export async function measureWarm(options: WarmOptions): Promise<WarmResult[]> {
  const handlerPort = await freePort();
  const handler = startHandler(handlerPort);
  const servedPort = await freePort();
  const twinPort = await freePort();
  const twin = startHandler(twinPort);
  const meterDir = mkdtempSync(path.join(os.tmpdir(), 'bench-meter-'));
  const metered = startHandler(servedPort, {
    NODE_OPTIONS: withMeterPreload(undefined, writeMeterPreload(meterDir)),
    [METER_PORT_ENV]: String(await freePort()),
  });
  const children: ChildProcess[] = [];
  try {
    await waitListening(handlerPort);
    await waitListening(servedPort);
    await waitListening(twinPort);
    const activator = await proxyProcess('activator-host.ts', handlerPort, children);
    const plain = await proxyProcess('plain-proxy.ts', handlerPort, children);
    const queueProxy = await proxyProcess('queue-proxy-host.ts', handlerPort, children);
    const targets = {
      direct: { url: `http://127.0.0.1:${handlerPort}/`, pid: 0 },
      twin: { url: `http://127.0.0.1:${twinPort}/`, pid: 0 },
      served: { url: `http://127.0.0.1:${servedPort}/`, pid: 0 },
      queued: { url: `http://127.0.0.1:${queueProxy.port}/`, pid: queueProxy.pid },
      plain: { url: `http://127.0.0.1:${plain.port}/`, pid: plain.pid },
      activator: { url: `http://127.0.0.1:${activator.port}/bench/hello/`, pid: activator.pid },
      split: { url: `http://127.0.0.1:${activator.port}/bench/split/`, pid: activator.pid },
    };
    // Warm-up: JIT, connection pools on all sides.
    for (const t of Object.values(targets)) await openLoop(t.url, 500, 1, 0, t.pid);
    const results: WarmResult[] = [];
    for (const rate of options.rates) {
      const samples = {
        direct: [] as RawSeries[],
        twin: [] as RawSeries[],
        served: [] as RawSeries[],
        queued: [] as RawSeries[],
        plain: [] as RawSeries[],
        activator: [] as RawSeries[],
        split: [] as RawSeries[],
      };
      for (let round = 0; round < options.rounds; round++) {
        for (const k of ['direct', 'twin', 'served', 'queued', 'plain', 'activator', 'split'] as const) {
          const pid = k === 'served' ? metered.pid! : k === 'twin' ? twin.pid! : handler.pid!;
          samples[k].push(await openLoop(targets[k].url, rate, options.seconds, pid, targets[k].pid));
        }
      }
      results.push({
        rate,
        direct: merge(samples.direct),
        twin: merge(samples.twin),
        served: merge(samples.served),
        queued: merge(samples.queued),
        plain: merge(samples.plain),
        activator: merge(samples.activator),
        split: merge(samples.split),
      });
    }
    return results;
  } finally {
    for (const child of children) {
      if (child.connected) child.send('stop');
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    }
    await stopChild(handler);
    await stopChild(metered);
    await stopChild(twin);
    rmSync(meterDir, { recursive: true, force: true });
  }
}

/** Forks a proxy child in front of the instance; resolves with its port once it serves. */
async function proxyProcess(
  file: string,
  instancePort: number,
  children: ChildProcess[],
): Promise<{ port: number; pid: number }> {
  const child = fork(path.join(HERE, file), [String(instancePort)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`${file} exited (${code})`)));
  });
  return { port, pid: child.pid! };
}

type RawSeries = Series & { latencies: number[] };

function merge(list: RawSeries[]): Series {
  const latencies = list.flatMap((s) => s.latencies);
  const sum = (k: 'errors' | 'handlerCpu' | 'proxyCpu') => list.reduce((a, s) => a + s[k], 0);
  return {
    n: latencies.length,
    errors: sum('errors'),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    handlerCpu: sum('handlerCpu'),
    proxyCpu: sum('proxyCpu'),
  };
}

/** Sends `rate` requests per second for `seconds` (not waiting for answers), and measures each. */
async function openLoop(
  url: string,
  rate: number,
  seconds: number,
  handlerPid: number,
  proxyPid: number,
): Promise<RawSeries> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const cpu = () => ({ handler: handlerPid ? cpuSeconds(handlerPid) : 0, proxy: proxyPid ? cpuSeconds(proxyPid) : 0 });
  const latencies: number[] = [];
  let errors = 0;
  const total = Math.round(rate * seconds);
  const inFlight = new Set<Promise<void>>();
  const before = cpu();
  const start = performance.now();
  let sent = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      http
        .get(url, { agent }, (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) latencies.push(performance.now() - t0);
            else errors++;
            resolve();
          });
        })
        .on('error', () => (errors++, resolve()));
    });
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    for (; sent < due; sent++) {
      const p = one();
      inFlight.add(p);
      void p.then(() => inFlight.delete(p));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inFlight);
  const after = cpu();
  agent.destroy();
  return {
    n: latencies.length,
    errors,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    handlerCpu: after.handler - before.handler,
    proxyCpu: after.proxy - before.proxy,
    latencies,
  };
}
