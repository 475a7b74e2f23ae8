/**
 * A memory cgroup for a process and its children, as a container's memory limit is one (the chart's
 * `controller.resources.limits.memory` for the controller and its CUE evaluator): Node sizes V8's
 * heap from the limit it runs under (`process.constrainedMemory()`) — with no limit, on a 24 GiB
 * machine, V8 may let the heap grow to 4× what a collection leaves alive before collecting it; under
 * 512 MiB, to ≈ 1.3×. Linux only, as root; cgroup v1 (`/sys/fs/cgroup/memory`) or v2 (`memory.max`).
 * Where a cgroup cannot be made, {@link memoryCgroup} says why.
 *
 * @example
 *   const cg = await memoryCgroup('bench-r0', 512 * 2 ** 20);
 *   if ('prefix' in cg) spawn(cg.prefix[0], [...cg.prefix.slice(1), process.execPath, 'bin/trellis.js', ...]);
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface MemoryCgroup {
  /** Prepended to the command: moves the process into the cgroup, then `exec`s the command (same pid). */
  prefix: string[];
  /** Processes the kernel killed for the limit. */
  oomKills(): Promise<number>;
  /** Removes the cgroup (once its processes have exited; a cgroup still in use is left). */
  remove(): Promise<void>;
}

/** A Kubernetes memory quantity (`512Mi`, `1Gi`, `300M`, `268435456`) in bytes. */
export function quantityBytes(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity.trim());
  if (!m) throw new Error(`not a memory quantity: ${quantity}`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] ?? ''] ?? 1;
  return Math.round(Number(m[1]) * unit);
}

/** Makes a memory cgroup `name` under this process's own, limited to `limit` bytes; or why it cannot. */
export async function memoryCgroup(name: string, limit: number): Promise<MemoryCgroup | { unavailable: string }> {
  if (process.platform !== 'linux') return { unavailable: 'not Linux' };
  const lines = (await readFile('/proc/self/cgroup', 'utf8').catch(() => '')).split('\n');
  const v1 = lines.map((l) => l.split(':')).find((f) => f[1]?.split(',').includes('memory'));
  const v2 = lines.find((l) => l.startsWith('0::'));
  const layout =
    v1 && existsSync('/sys/fs/cgroup/memory')
      ? {
          dir: path.join('/sys/fs/cgroup/memory', v1[2]!, name),
          max: 'memory.limit_in_bytes',
          events: 'memory.oom_control',
        }
      : v2 && existsSync('/sys/fs/cgroup/cgroup.controllers')
        ? {
            dir: path.join('/sys/fs/cgroup', v2.slice(3), name),
            max: 'memory.max',
            events: 'memory.events',
          }
        : undefined;
  if (!layout) return { unavailable: 'no memory cgroup controller mounted' };
  try {
    await mkdir(layout.dir, { recursive: true });
    await writeFile(path.join(layout.dir, layout.max), String(limit));
  } catch (err) {
    await rmdir(layout.dir).catch(() => undefined);
    return { unavailable: `cannot make ${layout.dir}: ${(err as Error).message}` };
  }
  const read = (file: string) => readFile(path.join(layout.dir, file), 'utf8').catch(() => undefined);
  return {
    prefix: ['/bin/sh', '-c', `echo $$ > '${path.join(layout.dir, 'cgroup.procs')}' && exec "$@"`, 'sh'],
    async oomKills() {
      return Number(/^oom_kill (\d+)$/m.exec((await read(layout.events)) ?? '')?.[1] ?? 0);
    },
    async remove() {
      await rmdir(layout.dir).catch(() => undefined);
    },
  };
}
