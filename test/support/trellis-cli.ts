import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { packageRoot } from '../../controlplane/index.js';

export interface RunningCommand {
  child: ChildProcess;
  /** Everything written to stderr so far (for failure messages). */
  stderr(): string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
}

/**
 * Starts `trellis <args>` from the TypeScript sources as a real process, and resolves once a stdout
 * line matches `ready` (e.g. `/^listening on (\d+)/`), with that match. `nodeArgs` go to node
 * itself (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). `built: true` runs the compiled copy
 * (`bin/trellis.js`, as the image does; `npm run build` first) — for benchmarks of memory: loading
 * the sources through tsx costs ≈ 45–50 MiB of RSS more (its loader thread, the transpiled sources).
 */
export async function startTrellis(
  args: string[],
  ready: RegExp,
  options: {
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
    nodeArgs?: string[];
    built?: boolean;
    /** A command that runs node (and `exec`s it, keeping the pid), e.g. one moving it into a memory cgroup. @default none */
    prefix?: string[];
  } = {},
): Promise<RunningCommand & { match: RegExpMatchArray }> {
  // A script file, not `-e` with `--input-type=module`: worker threads inherit the flags, and the CUE
  // engine's CommonJS worker would then be read as a module.
  const entry = options.built
    ? [path.join(packageRoot(), 'bin', 'trellis.js')]
    : ['--import', 'tsx', path.join(packageRoot(), 'test', 'support', 'trellis-main.ts')];
  const command = [...(options.prefix ?? []), process.execPath, ...(options.nodeArgs ?? []), ...entry, ...args];
  const child = spawn(command[0]!, command.slice(1), {
    cwd: packageRoot(),
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    const fail = (err: Error) => {
      child.kill('SIGKILL');
      reject(err);
    };
    const timer = setTimeout(
      () =>
        fail(new Error(`trellis ${args.join(' ')} did not print ${ready} in time; stderr:\n${stderr.slice(-4000)}`)),
      options.timeoutMs ?? 60_000,
    );
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const found = stdout
        .split('\n')
        .map((l) => l.match(ready))
        .find(Boolean);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      fail(
        new Error(`trellis ${args.join(' ')} exited with ${code} before it was ready; stderr:\n${stderr.slice(-4000)}`),
      );
    });
  });
  return { child, match, exited, stderr: () => stderr };
}
