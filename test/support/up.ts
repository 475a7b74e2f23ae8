import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { KubeClient } from '../../kube/index.js';
import { startTrellis, UP_READY_MS } from './cli.js';

/** A `trellis up` started by {@link useUp}'s `start`. */
export interface RunningUp {
  child: ChildProcess;
  /** Everything it printed so far. */
  output: () => string;
  /** Where Functions answer (the local router), as it printed. */
  functionsUrl: string;
  kubeconfig: string;
  /** A client of its cluster as the admin (field manager `test`); closed by `stop()`. */
  kube: KubeClient;
  /**
   * Ctrl-C, as a person stops it; resolves with the exit code and, for a failure message, the end of
   * its output and the warnings and errors of its log (what went wrong while stopping is logged there).
   */
  stop(): Promise<{ code: number | null; detail: string }>;
}

/**
 * For a `describe` whose tests run `trellis up`: a temporary folder (removed after the `describe`), and
 * `start(args)` — `trellis up <args> --data-dir <folder>/data --functions-port 0 --shutdown-timeout 30`
 * (a free port; room to stop on a loaded machine), resolved once it says where Functions answer, within
 * {@link UP_READY_MS}.
 *
 * @example
 *   const up = useUp('trellis-up-fn-')
 *   it('serves', async function () { const running = await up.start(['examples/function-hello']); ... })
 */
export function useUp(prefix: string): { start(args: string[], options?: { cwd?: string }): Promise<RunningUp> } {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return {
    async start(args, options = {}) {
      const dataDir = path.join(dir, 'data');
      const up = await startTrellis(
        ['up', ...args, '--data-dir', dataDir, '--functions-port', '0', '--shutdown-timeout', '30'],
        /Functions answer at (http:\/\/\S+?) /,
        { timeoutMs: UP_READY_MS, ...(options.cwd ? { cwd: options.cwd } : {}) },
      );
      const exited = new Promise<number | null>((resolve) => up.child.once('exit', resolve));
      const kubeconfig = /export KUBECONFIG=(\S+)/.exec(up.output())![1]!;
      const kube = await KubeClient.connect({ kubeconfig, fieldManager: 'test' });
      return {
        child: up.child,
        output: up.output,
        functionsUrl: up.match[1]!,
        kubeconfig,
        kube,
        async stop() {
          kube.close();
          up.child.kill('SIGINT');
          const code = await exited;
          const warnings = readFileSync(path.join(dataDir, 'trellis.log'), 'utf8')
            .split('\n')
            .filter((l) => /"level":"(warn|error|fatal)"/.test(l));
          return { code, detail: `${up.output().slice(-2000)}\n${warnings.slice(-20).join('\n')}` };
        },
      };
    },
  };
}
