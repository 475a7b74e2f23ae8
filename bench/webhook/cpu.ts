import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { cpuSeconds } from '../serverless/processes.js';
import { summarize, timeEach, type Summary } from './stats.js';

/** CPU milliseconds per request of one series: this process (client + in-process webhook) and kube-apiserver. */
export interface CpuPerRequest {
  bench: number;
  apiserver: number;
}

export interface Measured extends Summary {
  cpu: CpuPerRequest;
}

/**
 * Runs `fn` `count` times one after the other (as {@link timeEach}) and also answers the CPU each
 * request cost this process (`process.cpuUsage`) and the API server (`/proc/<pid>/stat`, 10 ms ticks:
 * use ≥ 100 requests).
 */
export async function measure(
  count: number,
  fn: (i: number) => Promise<unknown>,
  apiserverPid: number | undefined,
): Promise<Measured> {
  const apiserver = () => (apiserverPid ? cpuSeconds(apiserverPid) * 1000 : 0);
  const self0 = process.cpuUsage();
  const api0 = apiserver();
  const samples = await timeEach(count, fn);
  const self = process.cpuUsage(self0);
  return {
    ...summarize(samples),
    cpu: { bench: (self.user + self.system) / 1000 / count, apiserver: (apiserver() - api0) / count },
  };
}

/**
 * A CPU profile of this process while `body` runs (V8's sampling profiler, 100 µs), written to `file`
 * as a `.cpuprofile` (Chrome DevTools, speedscope) — what the in-process webhook spends a review on.
 */
export async function profiled<T>(file: string | undefined, body: () => Promise<T>): Promise<T> {
  if (!file) return body();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  try {
    return await body();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    await writeFile(file, JSON.stringify(profile));
    session.disconnect();
  }
}
