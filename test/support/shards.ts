import type { AuditEvent } from '../../controlplane/index.js';
import { shardLeaseName } from '../../runtime/index.js';

const WRITES = new Set(['create', 'update', 'patch', 'delete']);
const AGENT = /^trellis-controller\/(\S+)/;

/** The replica a request came from, by its User-Agent (`trellis-controller/<replica>`). */
export const replicaOf = (e: AuditEvent): string | undefined => AGENT.exec(e.userAgent ?? '')?.[1];
const time = (t: string | undefined) => (t ? Date.parse(t) + Number(/\.\d{3}(\d{3})/.exec(t)?.[1] ?? 0) / 1000 : NaN);

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
   */
  conflicts: string[];
}

/**
 * Proves from the API server's audit log that no object was reconciled by two replicas at once:
 * every write a replica made to an object falls after that replica acquired the Lease of the
 * object's shard and before any other replica acquired it next (acquisitions read from the successful
 * writes of `<group>-shard-<i>` by each replica). `shardOf` says which shard a write belongs to
 * (undefined: not a reconciled object, e.g. an Event).
 *
 * @example
 *   const report = exclusiveWrites(await controlPlane.auditEvents(), { group, shardOf: (e) => ... })
 *   assert.deepEqual(report.violations, [])
 */
export function exclusiveWrites(
  events: AuditEvent[],
  options: { group: string; shards: number; shardOf: (e: AuditEvent) => number | undefined },
): ExclusivityReport {
  const ok = (e: AuditEvent) => (e.responseStatus?.code ?? 0) < 300;
  const mine = events
    .filter((e) => replicaOf(e) && WRITES.has(e.verb))
    .sort((a, b) => time(a.stageTimestamp) - time(b.stageTimestamp));
  // Per shard: who held it from when (the first successful write after another replica's).
  const tenures = new Map<number, { replica: string; from: number; fromReceived: number }[]>();
  let handovers = 0;
  for (let shard = 0; shard < options.shards; shard++) {
    const name = shardLeaseName(options.group, shard);
    const list: { replica: string; from: number; fromReceived: number }[] = [];
    for (const e of mine.filter((x) => x.objectRef?.resource === 'leases' && x.objectRef.name === name && ok(x))) {
      const replica = replicaOf(e)!;
      if (list.at(-1)?.replica !== replica)
        list.push({ replica, from: time(e.stageTimestamp), fromReceived: time(e.requestReceivedTimestamp) });
    }
    handovers += list.length;
    tenures.set(shard, list);
  }
  // For a violation: the shard's Lease writes around it, to see what happened.
  const leaseWrites = (shard: number, at: number) =>
    mine
      .filter(
        (x) =>
          x.objectRef?.resource === 'leases' &&
          x.objectRef.name === shardLeaseName(options.group, shard) &&
          Math.abs(time(x.stageTimestamp) - at) < 20_000,
      )
      .map((x) => `${replicaOf(x)} ${x.verb} ${x.responseStatus?.code} ${x.stageTimestamp?.slice(11, 23)}`)
      .join('; ');
  const violations: string[] = [];
  const conflicts: string[] = [];
  const replicas = new Set<string>();
  let writes = 0;
  const what = (e: AuditEvent) =>
    `${e.verb} ${e.objectRef?.resource}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''} ${e.objectRef?.namespace ?? ''}/${e.objectRef?.name ?? ''} by ${replicaOf(e)} at ${e.stageTimestamp}`;
  const lastWriter = new Map<string, string>();
  const objectKey = (e: AuditEvent) =>
    `${e.objectRef?.apiGroup ?? ''}/${e.objectRef?.resource}/${e.objectRef?.namespace ?? ''}/${e.objectRef?.name ?? ''}`;
  for (const e of mine) {
    if (e.objectRef?.resource === 'leases') continue;
    const before = lastWriter.get(objectKey(e));
    if (e.responseStatus?.code === 409 && before && before !== replicaOf(e))
      conflicts.push(`${what(e)} (last written by ${before}): ${e.responseStatus.message ?? ''}`);
    if (ok(e)) lastWriter.set(objectKey(e), replicaOf(e)!);
    const shard = options.shardOf(e);
    if (shard === undefined) continue;
    writes++;
    const replica = replicaOf(e)!;
    replicas.add(replica);
    const list = tenures.get(shard) ?? [];
    const received = time(e.requestReceivedTimestamp);
    const done = time(e.stageTimestamp);
    // The tenure this write falls in: the last acquisition completed before the write arrived.
    const i = list.findLastIndex((t) => t.from <= received);
    const tenure = list[i];
    const next = list[i + 1];
    if (!tenure || tenure.replica !== replica)
      violations.push(
        `${what(e)}: shard ${shard} was held by ${tenure?.replica ?? 'nobody'} (${leaseWrites(shard, received)})`,
      );
    else if (next && done > next.fromReceived)
      violations.push(`${what(e)}: still writing when ${next.replica} took shard ${shard} over`);
  }
  return { writes, replicas: [...replicas].sort(), handovers, violations, conflicts };
}
