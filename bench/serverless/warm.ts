import { fork } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile } from '../webhook/stats.js';
import { cpuSeconds, freePort, startHandler, stopChild, waitListening } from './processes.js';

export interface WarmOptions {
  /** Request rates to measure at, each open loop. */
  rates: number[];
  /** Seconds per series. */
  seconds: number;
  /** Rounds of (direct, activator) per rate, interleaved so drift hits both alike. */
  rounds: number;
}

export interface Series {
  n: number;
  errors: number;
  p50: number;
  p99: number;
  /** CPU seconds of the handler process and of the activator process during the series. */
  handlerCpu: number;
  activatorCpu: number;
}

export interface WarmResult {
  rate: number;
  direct: Series;
  activator: Series;
}

/**
 * Warm-path latency: the same handler process (examples/function-hello), called directly and
 * through the activator (a process of its own), open loop at each rate over keep-alive
 * connections. Latency runs from `http.request` to the end of the response.
 */
export async function measureWarm(options: WarmOptions): Promise<WarmResult[]> {
  const handlerPort = await freePort();
  const handler = startHandler(handlerPort);
  const host = fork(path.join(path.dirname(fileURLToPath(import.meta.url)), 'activator-host.ts'), [String(handlerPort)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    await waitListening(handlerPort);
    const activatorPort = await new Promise<number>((resolve, reject) => {
      host.once('message', (m) => resolve((m as { port: number }).port));
      host.once('exit', (code) => reject(new Error(`activator host exited (${code})`)));
    });
    const targets = {
      direct: `http://127.0.0.1:${handlerPort}/`,
      activator: `http://127.0.0.1:${activatorPort}/bench/hello/`,
    };
    const cpu = () => ({ handler: cpuSeconds(handler.pid!), activator: cpuSeconds(host.pid!) });
    // Warm-up: JIT, connection pools on both sides.
    for (const url of Object.values(targets)) await openLoop(url, 500, 1, cpu);
    const results: WarmResult[] = [];
    for (const rate of options.rates) {
      const samples = { direct: [] as Series[], activator: [] as Series[] };
      for (let round = 0; round < options.rounds; round++) {
        samples.direct.push(await openLoop(targets.direct, rate, options.seconds, cpu));
        samples.activator.push(await openLoop(targets.activator, rate, options.seconds, cpu));
      }
      results.push({ rate, direct: merge(samples.direct), activator: merge(samples.activator) });
    }
    return results;
  } finally {
    if (host.connected) host.send('stop');
    await new Promise((r) => (host.exitCode !== null ? r(undefined) : host.once('exit', r)));
    await stopChild(handler);
  }
}

type RawSeries = Series & { latencies: number[] };

function merge(list: Series[]): Series {
  const latencies = list.flatMap((s) => (s as RawSeries).latencies);
  const sum = (k: 'errors' | 'handlerCpu' | 'activatorCpu') => list.reduce((a, s) => a + s[k], 0);
  return { n: latencies.length, errors: sum('errors'), p50: percentile(latencies, 50), p99: percentile(latencies, 99), handlerCpu: sum('handlerCpu'), activatorCpu: sum('activatorCpu') };
}

/** Sends `rate` requests per second for `seconds` (not waiting for answers), and measures each. */
async function openLoop(url: string, rate: number, seconds: number, cpu: () => { handler: number; activator: number }): Promise<RawSeries> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
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
  return { n: latencies.length, errors, p50: percentile(latencies, 50), p99: percentile(latencies, 99), handlerCpu: after.handler - before.handler, activatorCpu: after.activator - before.activator, latencies };
}
