import path from 'node:path';
import { PassThrough } from 'node:stream';
import { spawn, type ChildProcess } from 'node:child_process';
import { main } from '../../cli/main.js';
import { packageRoot } from '../../controlplane/index.js';

/** Runs `trellis <args>` in this process and returns its exit code and output. */
export async function trellis(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const text = { out: '', err: '' };
  out.on('data', (d: Buffer) => (text.out += d));
  err.on('data', (d: Buffer) => (text.err += d));
  const code = await main(args, { out, err, env, cwd: process.cwd() });
  return { code, ...text };
}

/** `bin/trellis.js`, the command users run (compiled into dist/ by `npm ci` / `npm test`). */
export const TRELLIS_BIN = path.join(packageRoot(), 'bin', 'trellis.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `trellis <args>` as a real process and collects its output. */
export function runTrellis(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TRELLIS_BIN, ...args], {
      cwd: options.cwd ?? packageRoot(),
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/**
 * How long `trellis up` may take in a test to say it is up (a whole control plane, the CRDs, the
 * webhook, the controllers, the serverless runtime and the given applications): ≈ 10 s on a quiet
 * 2-core machine, 53 s in CI's most loaded run so far, and over 180 s at load 34 (up-function
 * timed out there). Room for load 30 and more; `trellis up` itself gives its applications 300 s.
 */
export const UP_READY_MS = 360_000;

/** Starts a long-running `trellis <args>` (e.g. `up`) and resolves once its output matches `ready`. */
export function startTrellis(
  args: string[],
  ready: RegExp,
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<{ child: ChildProcess; output: () => string; match: RegExpExecArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TRELLIS_BIN, ...args], {
      cwd: options.cwd ?? packageRoot(),
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let all = '';
    const timer = setTimeout(() => {
      // Not ready in time: stop it (SIGINT, as a person would; SIGKILL if it does not go), or it
      // keeps running after the test and holds mocha open.
      child.kill('SIGINT');
      setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), 10_000).unref();
      reject(
        new Error(
          `trellis ${args.join(' ')} did not print ${ready} within ${(options.timeoutMs ?? 120_000) / 1000} s:\n${all}`,
        ),
      );
    }, options.timeoutMs ?? 120_000);
    const onData = (d: Buffer) => {
      all += d;
      const m = ready.exec(all);
      if (m) {
        clearTimeout(timer);
        resolve({ child, output: () => all, match: m });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`trellis ${args.join(' ')} exited with ${code} before it was ready:\n${all}`));
    });
  });
}
