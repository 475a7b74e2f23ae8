/**
 * `trellis controller` replicas of the shards bench: compiled (`bin/trellis.js`, as the image runs
 * it), each its own process, killed with SIGKILL and replaced the way a Deployment would (a new pod:
 * a new identity).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTrellis, type RunningCommand } from '../../test/support/trellis-cli.js';
import { parseMetrics, type Sample } from '../reconcile/metrics.js';
import { descendants } from '../reconcile/processes.js';

export interface ReplicaOptions {
  kubeconfig: string;
  namespace: string;
  /** Workers per replica. */
  concurrency: number;
  /** 0: one unsharded controller. */
  shards: number;
  leaseSeconds: number;
  /** The shard group (`--leader-election-id`). */
  group: string;
  /** Log at info level and write each replica's log to `<logDir>/<identity>.log` when it stops. @default warn, kept in memory */
  logDir?: string;
  /** Node flags of each replica (e.g. `--cpu-prof`). @default none */
  nodeArgs?: string[];
}

/** One running replica. */
export class Replica {
  private constructor(
    readonly identity: string,
    private readonly p: RunningCommand,
    private readonly port: number,
    private readonly logDir: string | undefined,
  ) {}

  static async start(identity: string, o: ReplicaOptions): Promise<Replica> {
    const sharding = o.shards
      ? ['--shards', String(o.shards), '--lease-duration', String(o.leaseSeconds), '--leader-election-id', o.group]
      : [];
    const p = await startTrellis(
      [
        'controller',
        '--kubeconfig',
        o.kubeconfig,
        '--namespace',
        o.namespace,
        '--concurrency',
        String(o.concurrency),
        '--identity',
        identity,
        ...sharding,
        '--health-addr',
        '127.0.0.1:0',
        '--log-level',
        o.logDir ? 'info' : 'warn',
      ],
      /^trellis controller running as \S+ \(health and metrics on 127\.0\.0\.1:(\d+)\)/,
      { timeoutMs: 180_000, built: true, nodeArgs: o.nodeArgs ?? [] },
    );
    return new Replica(identity, p, Number(p.match[1]), o.logDir);
  }

  /** Its last log line (why it ended). */
  lastLog(): string {
    return this.p.stderr().trimEnd().split('\n').at(-1)?.slice(0, 300) ?? '';
  }

  /** Its process id (undefined once it ended). */
  get pid(): number | undefined {
    return this.running() ? this.p.child.pid : undefined;
  }

  running(): boolean {
    return this.p.child.exitCode === null && this.p.child.signalCode === null;
  }

  /** Its /metrics now; undefined when a busy replica dropped the scrape while it still runs. */
  async scrape(): Promise<Sample[] | undefined> {
    try {
      return parseMetrics(await (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text());
    } catch (err) {
      if (this.running()) return undefined;
      throw new Error(`controller ${this.identity} ended: ${this.p.stderr().slice(-2000)}`, { cause: err });
    }
  }

  /** Stops it; with SIGKILL, also reports its CUE evaluators (native engine) still alive 10 s later. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ leakedEvaluators: number[] }> {
    const evaluators = this.p.child.pid ? await descendants(this.p.child.pid, 'trellis-cue') : [];
    this.p.child.kill(signal);
    await this.p.exited;
    if (this.logDir) await writeFile(path.join(this.logDir, `${this.identity}.log`), this.p.stderr());
    const alive = () => evaluators.filter((pid) => isAlive(pid));
    for (let i = 0; i < 100 && alive().length; i++) await sleep(100);
    const leaked = alive();
    for (const pid of leaked) process.kill(pid, 'SIGKILL'); // the bench's own grandchildren, by id
    return { leakedEvaluators: leaked };
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every replica's /metrics; undefined when one dropped its scrape (try again). */
export async function scrapeAll(replicas: Replica[]): Promise<Sample[] | undefined> {
  const all = await Promise.all(replicas.map((r) => r.scrape()));
  return all.some((s) => !s) ? undefined : all.flatMap((s) => s!);
}
