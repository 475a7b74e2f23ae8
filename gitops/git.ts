import { spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { TrellisError } from '../lib/errors.js';
import { redact } from './redact.js';

/** The only transports git may use, for the repository and anything it points to (no `ext::`, `fd::`). */
export const ALLOWED_PROTOCOLS = 'file:http:https:ssh';

export interface RunGitOptions {
  /** Working directory (a repository). */
  cwd: string;
  /** Extra environment (credentials plumbing); merged over a minimal, isolated environment. */
  env?: Record<string, string>;
  /** Kill git after this long. @default 60000 */
  timeoutMs?: number;
  /** Kill git when the repository's object store grows past this many bytes. @default none */
  maxRepoBytes?: number;
  /** Strings to blank out of any output that reaches an error message. */
  secrets?: string[];
  /** Feed this to git's standard input. */
  input?: string | Buffer;
  /** Return standard output as a Buffer (for `cat-file --batch`). */
  binary?: boolean;
  signal?: AbortSignal;
}

export interface GitResult {
  stdout: string;
  raw: Buffer;
  stderr: string;
}

/**
 * The environment git runs with: no user or system configuration, no terminal prompts, only the
 * allowed transports, a private HOME. Nothing from the caller's environment leaks in except PATH.
 */
export function gitEnvironment(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ALLOW_PROTOCOL: ALLOWED_PROTOCOLS,
    GIT_PROTOCOL_FROM_USER: '0',
    GIT_ASKPASS: '/bin/false',
    SSH_ASKPASS: '/bin/false',
    GIT_SSH_COMMAND: 'ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes',
    LC_ALL: 'C',
    ...extra,
  };
}

/** Options every git command gets: hooks and helpers off, bounded HTTP stalls. */
const CONFIG_ARGS = [
  '-c',
  'core.hooksPath=/dev/null',
  '-c',
  'credential.helper=',
  '-c',
  'http.lowSpeedLimit=1000',
  '-c',
  'http.lowSpeedTime=30',
  '-c',
  'protocol.version=2',
  '-c',
  'core.fsmonitor=false',
];

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) total += await dirBytes(full);
    else
      total += await stat(full).then(
        (s) => s.size,
        () => 0,
      );
  }
  return total;
}

/** Bytes in a repository's object store (`.git/objects`, or `objects` of a bare one). */
export async function objectStoreBytes(repo: string): Promise<number> {
  const dotGit = path.join(repo, '.git', 'objects');
  return dirBytes(
    await stat(dotGit).then(
      () => dotGit,
      () => path.join(repo, 'objects'),
    ),
  );
}

/**
 * Runs `git <args>` in its own process group with an isolated environment, a time bound and an
 * optional bound on repository growth. Fails with `TRL_GITOPS_GIT` (the redacted stderr),
 * `TRL_GITOPS_TIMEOUT` or `TRL_GITOPS_TOO_LARGE`. Secrets go through the environment or files,
 * never through `args`.
 */
export function runGit(args: string[], options: RunGitOptions): Promise<GitResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const secrets = options.secrets ?? [];
  const env = options.env ?? gitEnvironment(options.cwd);
  return new Promise((resolve, reject) => {
    const child = spawn('git', [...CONFIG_ARGS, ...args], {
      cwd: options.cwd,
      env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    let killedFor: TrellisError | undefined;
    let finished = false;
    const kill = (why: TrellisError) => {
      if (killedFor) return;
      killedFor = why;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const what = `git ${args[0]}`;
    const timer = setTimeout(
      () => kill(new TrellisError('TRL_GITOPS_TIMEOUT', `${what} did not finish within ${timeoutMs} ms`)),
      timeoutMs,
    );
    let sizeTimer: NodeJS.Timeout | undefined;
    if (options.maxRepoBytes) {
      const max = options.maxRepoBytes;
      const check = async () => {
        const bytes = await objectStoreBytes(options.cwd);
        if (finished) return;
        if (bytes > max)
          kill(
            new TrellisError(
              'TRL_GITOPS_TOO_LARGE',
              `the repository grew past the limit of ${max} bytes during ${what}`,
            ),
          );
        else sizeTimer = setTimeout(() => void check(), 250);
      };
      sizeTimer = setTimeout(() => void check(), 250);
    }
    const onAbort = () => kill(new TrellisError('TRL_GITOPS_TIMEOUT', `${what} was cancelled`));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      if (err.length < 64_000) err += d;
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
    child.on('error', (e) => {
      finished = true;
      clearTimeout(timer);
      clearTimeout(sizeTimer);
      reject(new TrellisError('TRL_GITOPS_GIT', `cannot run git: ${e.message}`, { cause: e }));
    });
    child.on('close', (code) => {
      finished = true;
      clearTimeout(timer);
      clearTimeout(sizeTimer);
      options.signal?.removeEventListener('abort', onAbort);
      const stderr = redact(err, secrets);
      if (killedFor) return reject(killedFor);
      const raw = Buffer.concat(out);
      if (code !== 0) {
        return reject(new TrellisError('TRL_GITOPS_GIT', `${what} failed (exit ${code}): ${gitFailure(stderr)}`));
      }
      resolve({ stdout: options.binary ? '' : redact(raw.toString('utf8'), secrets), raw, stderr });
    });
  });
}

/** Git's boilerplate that follows the real reason of a failed remote command. */
const BOILERPLATE = [
  /^Please make sure you have the correct access rights/,
  /^and the repository exists\.?$/,
  /^hint:/,
];

/** The lines of git's (already redacted) stderr that say why it failed, joined with ` / `. */
export function gitFailure(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !BOILERPLATE.some((re) => re.test(l)));
  return lines.slice(-4).join(' / ') || 'no output';
}
