/**
 * CPU time of the processes a shards-bench phase spends, read from /proc (Linux): the replicas
 * (each with its CUE evaluator), the control plane's processes, and the bench itself — so each kill's
 * line says where the time went, and a replica killed with SIGKILL is counted up to its kill.
 */
import { readFile } from 'node:fs/promises';
import { descendants } from '../reconcile/processes.js';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ: 100 on Linux). */
const TICKS = 100;

/** User + system CPU seconds of one process (its own threads, not its children); undefined once it ended. */
export async function processCpu(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  // `pid (comm) state ppid … utime stime …`: fields 14 and 15, counted after comm's closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/** A process tree's CPU seconds: `pid` plus its descendants named in `with` (e.g. `trellis-cue`). */
export async function treeCpu(pid: number, withChildren: string[] = []): Promise<number | undefined> {
  const own = await processCpu(pid);
  if (own === undefined) return undefined;
  let total = own;
  for (const comm of withChildren)
    for (const child of await descendants(pid, comm)) total += (await processCpu(child)) ?? 0;
  return total;
}

/**
 * CPU seconds per group of processes between two calls of {@link CpuMeter.take}. The first take sets
 * the baseline; a process first seen after it (a replica started since) counts from its start; one gone
 * at the next take (killed) counts up to its last {@link CpuMeter.see} — call `see` right before a kill.
 *
 * @example
 *   const meter = new CpuMeter(); await meter.take(procs) ... await meter.take(procs) // { replicas: 41.2, ... }
 */
export class CpuMeter {
  private last = new Map<string, { group: string; cpu: number }>();
  private spent = new Map<string, number>();
  private started = false;

  /** Records the processes' CPU now; what each used since it was last seen is added to its group. */
  async see(procs: { id: string; group: string; cpu: () => Promise<number | undefined> }[]): Promise<void> {
    for (const p of procs) {
      const cpu = await p.cpu();
      if (cpu === undefined) continue;
      const before = this.last.get(p.id);
      if (before || this.started) this.spent.set(p.group, (this.spent.get(p.group) ?? 0) + cpu - (before?.cpu ?? 0));
      this.last.set(p.id, { group: p.group, cpu });
    }
  }

  /** {@link see}, then the CPU seconds spent per group since the previous take; starts the next window. */
  async take(
    procs: { id: string; group: string; cpu: () => Promise<number | undefined> }[],
  ): Promise<Record<string, number>> {
    await this.see(procs);
    this.started = true;
    const spent = Object.fromEntries(this.spent);
    this.spent = new Map();
    return spent;
  }
}
