import { auditTime as time, type AuditEvent } from '../../controlplane/index.js';
import { shardLeaseName } from '../../runtime/index.js';

const WRITES = new Set(['create', 'update', 'patch', 'delete']);
const AGENT = /^trellis-controller\/(\S+)/;

/** The replica a request came from, by its User-Agent (`trellis-controller/<replica>`). */
export const replicaOf = (e: AuditEvent): string | undefined => AGENT.exec(e.userAgent ?? '')?.[1];
/** What {@link exclusiveWrites} found in the audit log. */
export interface ExclusivityReport {
  /** Writes to reconciled objects checked (by any replica). */
  writes: number;
  /** Replicas seen writing. */
  replicas: string[];
  /** Each shard acquisition (a replica's first successful Lease write after another's). */
  handovers: number;
  /** Writes made while another replica held the object's shard — must be empty. */
  violations: string[];
  /**
   * Writes answered 409 Conflict because another replica had written the object since (its last
   * successful write before the 409 was another replica's; Lease compare-and-swaps excluded) — must be empty.
   * Where the log also holds other writers' writes (`ControlPlaneOptions.auditWriters`, e.g. the
   * admin identity kube-controller-manager writes Deployment status as), a 409 after such a write
   * is that writer's, not another replica's.
   */
  conflicts: string[];
}

export interface ExclusivityOptions {
  /** The shard group (`--leader-election-id`): its shard Leases are `<group>-shard-<i>`. */
  group: string;
  shards: number;
  /** The shard a write belongs to; undefined: not a reconciled object (e.g. an Event). */
  shardOf: (e: AuditEvent) => number | undefined;
}

interface Tenure {
  replica: string;
  from: number;
  fromReceived: number;
}

/**
 * Proves from the API server's audit log, fed in pieces as it grows (a bench's log is too large to
 * hold), that no object was reconciled by two replicas at once: every write a replica made to an
 * object falls after that replica acquired the Lease of the object's shard and before any other
 * replica acquired it next (acquisitions read from the successful writes of `<group>-shard-<i>` by
 * each replica). Feed the events in the order the log holds them; each piece is sorted by completion.
 *
 * @example
 *   const checker = new ExclusivityChecker({ group, shards: 12, shardOf: (e) => ... })
 *   checker.add((await controlPlane.auditEventsFrom(0)).events)
 *   assert.deepEqual(checker.report().violations, [])
 */
export class ExclusivityChecker {
  private readonly tenures = new Map<number, Tenure[]>();
  /** Per shard: writes in its latest tenure, checked when the next tenure begins. */
  private readonly pending = new Map<number, { done: number; what: string }[]>();
  /** Per shard: its latest Lease writes, to show what happened around a violation. */
  private readonly leaseLog = new Map<number, { at: number; line: string }[]>();
  private readonly leaseShard = new Map<string, number>();
  /** Per object: its last successful writer — a replica, or someone else (`replica` undefined). */
  private readonly lastWriter = new Map<string, { replica: string | undefined }>();
  private readonly replicas = new Set<string>();
  private readonly violations: string[] = [];
  private readonly conflicts: string[] = [];
  /**
   * 409s of a replica whose last writer (by completion time) was another replica, until a write by
   * someone else — kube-controller-manager updating a Deployment's status — turns up that reached the
   * API server before the 409 was answered: that write may have committed first (completion order is
   * not commit order; one run saw the other write complete 2 ms after the 409), and then the 409 was
   * not between replicas.
   */
  private readonly suspects: { key: string; answered: number; line: string }[] = [];
  private writes = 0;
  private handovers = 0;

  constructor(private readonly options: ExclusivityOptions) {
    for (let shard = 0; shard < options.shards; shard++)
      this.leaseShard.set(shardLeaseName(options.group, shard), shard);
  }

  /**
   * Checks the next events of the log (any events: only writes are read — the replicas' checked,
   * everyone's remembered as the object's last writer). With `sharded: false` (an unsharded
   * controller ran meanwhile, e.g. a bench's reference) the writes are only remembered.
   */
  add(events: AuditEvent[], { sharded = true }: { sharded?: boolean } = {}): void {
    const writes = events
      .filter((e) => WRITES.has(e.verb))
      .sort((a, b) => time(a.stageTimestamp) - time(b.stageTimestamp));
    for (const e of writes) {
      const replica = replicaOf(e);
      if (!replica || !sharded) {
        if (ok(e)) {
          this.lastWriter.set(objectKey(e), { replica: sharded ? replica : undefined });
          this.exonerate(objectKey(e), time(e.requestReceivedTimestamp));
        }
      } else if (e.objectRef?.resource === 'leases') this.lease(e);
      else this.write(e);
    }
  }

  /** Everything found so far. */
  report(): ExclusivityReport {
    return {
      writes: this.writes,
      replicas: [...this.replicas].sort(),
      handovers: this.handovers,
      violations: [...this.violations],
      conflicts: [...this.conflicts, ...this.suspects.map((c) => c.line)],
    };
  }

  /** Drops the suspected conflicts on `key` answered after a write by someone else arrived at `received`. */
  private exonerate(key: string, received: number): void {
    for (let i = this.suspects.length - 1; i >= 0; i--) {
      const c = this.suspects[i]!;
      if (c.key === key && received < c.answered) this.suspects.splice(i, 1);
    }
  }

  private lease(e: AuditEvent): void {
    const shard = this.leaseShard.get(e.objectRef?.name ?? '');
    if (shard === undefined) return;
    const replica = replicaOf(e)!;
    const at = time(e.stageTimestamp);
    const log = this.leaseLog.get(shard) ?? [];
    log.push({ at, line: `${replica} ${e.verb} ${e.responseStatus?.code} ${e.stageTimestamp?.slice(11, 23)}` });
    if (log.length > 40) log.shift();
    this.leaseLog.set(shard, log);
    if (!ok(e)) return;
    const list = this.tenures.get(shard) ?? [];
    if (list.at(-1)?.replica === replica) return;
    const next = { replica, from: at, fromReceived: time(e.requestReceivedTimestamp) };
    list.push(next);
    this.tenures.set(shard, list);
    this.handovers++;
    for (const w of this.pending.get(shard) ?? [])
      if (w.done > next.fromReceived)
        this.violations.push(`${w.what}: still writing when ${replica} took shard ${shard} over`);
    this.pending.set(shard, []);
  }

  private write(e: AuditEvent): void {
    const replica = replicaOf(e)!;
    const key = objectKey(e);
    const before = this.lastWriter.get(key)?.replica;
    if (e.responseStatus?.code === 409 && before && before !== replica)
      this.suspects.push({
        key,
        answered: time(e.stageTimestamp),
        line: `${what(e)} (last written by ${before}): ${e.responseStatus.message ?? ''}`,
      });
    if (ok(e)) this.lastWriter.set(key, { replica });
    const shard = this.options.shardOf(e);
    if (shard === undefined) return;
    this.writes++;
    this.replicas.add(replica);
    const list = this.tenures.get(shard) ?? [];
    const received = time(e.requestReceivedTimestamp);
    const done = time(e.stageTimestamp);
    // The tenure this write falls in: the last acquisition completed before the write arrived.
    const i = list.findLastIndex((t) => t.from <= received);
    const tenure = list[i];
    const next = list[i + 1];
    if (!tenure || tenure.replica !== replica) {
      const around = (this.leaseLog.get(shard) ?? []).filter((l) => Math.abs(l.at - received) < 20_000);
      this.violations.push(
        `${what(e)}: shard ${shard} was held by ${tenure?.replica ?? 'nobody'} (${around.map((l) => l.line).join('; ')})`,
      );
    } else if (next && done > next.fromReceived)
      this.violations.push(`${what(e)}: still writing when ${next.replica} took shard ${shard} over`);
    else if (!next) {
      const waiting = this.pending.get(shard) ?? [];
      waiting.push({ done, what: what(e) });
      this.pending.set(shard, waiting);
    }
  }
}

const ok = (e: AuditEvent) => (e.responseStatus?.code ?? 0) < 300;
const objectKey = (e: AuditEvent) =>
  `${e.objectRef?.apiGroup ?? ''}/${e.objectRef?.resource}/${e.objectRef?.namespace ?? ''}/${e.objectRef?.name ?? ''}`;
const what = (e: AuditEvent) =>
  `${e.verb} ${e.objectRef?.resource}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''} ${e.objectRef?.namespace ?? ''}/${e.objectRef?.name ?? ''} by ${replicaOf(e)} at ${e.stageTimestamp}`;

/**
 * {@link ExclusivityChecker} over a whole log at once.
 *
 * @example
 *   const report = exclusiveWrites(await controlPlane.auditEvents(), { group, shardOf: (e) => ... })
 *   assert.deepEqual(report.violations, [])
 */
export function exclusiveWrites(events: AuditEvent[], options: ExclusivityOptions): ExclusivityReport {
  const checker = new ExclusivityChecker(options);
  checker.add(events);
  return checker.report();
}
