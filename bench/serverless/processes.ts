import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** examples/function-hello: the handler every figure of `bench:serverless` runs. */
export const HELLO_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'examples',
  'function-hello',
);

/** Starts `node handler.js` of examples/function-hello on `port`, as the local runner does. */
export function startHandler(port: number, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['handler.js'], {
    cwd: HELLO_DIR,
    env: { PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: 'ignore',
  });
}

/** Resolves once a TCP connect to the port succeeds, trying every `everyMs`. */
export async function waitListening(port: number, everyMs = 1): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net
        .connect({ host: '127.0.0.1', port }, () => (c.destroy(), resolve(true)))
        .on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Milliseconds from sending a GET on a fresh connection until its response headers (first byte). */
export function timeToFirstByte(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ ms: number; status: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, headers }, (res) => {
        const ms = performance.now() - start;
        res.resume();
        res.on('end', () => resolve({ ms, status: res.statusCode ?? 0 }));
      })
      .on('error', reject);
  });
}

/** Stops a child with SIGTERM and waits for it to exit. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ": field 3 is state, so utime (field 14) and stime (15) are at 11 and 12.
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}
