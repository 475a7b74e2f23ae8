import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

/**
 * Started once per control plane: a tiny Node process that holds a pipe from us and, when that pipe
 * closes without a goodbye (we were killed, even with SIGKILL), kills the process groups it was told
 * about. This is what keeps an interrupted test run from leaving etcd and kube-apiserver behind.
 */
const REAPER = `
const pids = new Set();
let buf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  buf += d;
  let nl;
  while ((nl = buf.indexOf('\\n')) >= 0) {
    const line = buf.slice(0, nl); buf = buf.slice(nl + 1);
    if (line === 'bye') process.exit(0);
    if (line.startsWith('-')) pids.delete(Number(line.slice(1))); else pids.add(Number(line));
  }
});
const kill = (sig) => { for (const pid of pids) { try { process.kill(-pid, sig); } catch {} } };
process.stdin.on('end', () => { kill('SIGTERM'); setTimeout(() => { kill('SIGKILL'); process.exit(0); }, 5000); });
`;

export class Reaper {
  private readonly child: ChildProcess;

  constructor(nodePath: string) {
    this.child = spawn(nodePath, ['-e', REAPER], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    this.child.unref();
    (this.child.stdin as unknown as { unref(): void }).unref();
  }

  watch(pid: number): void {
    this.child.stdin?.write(`${pid}\n`);
  }

  forget(pid: number): void {
    this.child.stdin?.write(`-${pid}\n`);
  }

  /** Tells the reaper we shut down cleanly. */
  close(): void {
    this.child.stdin?.end('bye\n');
  }
}

export interface ManagedProcessOptions {
  /** Name used in errors, e.g. `kube-apiserver`. */
  name: string;
  command: string;
  args: string[];
  /** stdout and stderr are appended here. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  /** Working directory. @default this process's */
  cwd?: string;
  reaper?: Reaper;
}

/** A child process in its own process group, logging to a file, stopped with SIGTERM then SIGKILL. */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exitPromise: Promise<number | null> = Promise.resolve(null);
  exitCode: number | null | undefined;

  constructor(readonly options: ManagedProcessOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.exitCode === undefined;
  }

  start(): void {
    const fd = openSync(this.options.logFile, 'a');
    try {
      this.exitCode = undefined;
      const child = spawn(this.options.command, this.options.args, {
        stdio: ['ignore', fd, fd],
        detached: true,
        env: this.options.env ?? {},
        ...(this.options.cwd ? { cwd: this.options.cwd } : {}),
      });
      this.child = child;
      this.exitPromise = new Promise((resolve) => {
        child.on('exit', (code, signal) => {
          this.exitCode = code ?? (signal ? -1 : null);
          if (child.pid) this.options.reaper?.forget(child.pid);
          resolve(this.exitCode);
        });
        child.on('error', () => resolve((this.exitCode = -1)));
      });
      child.unref();
      if (child.pid) this.options.reaper?.watch(child.pid);
    } finally {
      closeSync(fd);
    }
  }

  /** Resolves with the exit code once the process has exited. */
  exited(): Promise<number | null> {
    return this.exitPromise;
  }

  /** SIGTERM to the process group; SIGKILL after `graceMs`. Resolves when it has exited. */
  async stop(graceMs = 10_000): Promise<void> {
    const pid = this.child?.pid;
    if (!pid || this.exitCode !== undefined) return;
    // Referenced again while we wait: an unreferenced child's exit does not keep this process alive,
    // so once the SIGKILL timer had fired nothing did, and Node could end mid-await (a test run then
    // exited 0 in its teardown, failures or not).
    this.child!.ref();
    signalGroup(pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
    await this.exitPromise;
    clearTimeout(timer);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
