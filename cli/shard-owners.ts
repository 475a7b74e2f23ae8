import { isForbidden, isNotFound, type KubeClient, type LeaseObject } from '../kube/index.js';
import { ANNOTATION_SHARDS, LABEL_SHARD_GROUP, LABEL_SHARD_ROLE, shardLeaseName, shardOf } from '../runtime/index.js';
import { table } from './args.js';

/** One group of sharded controller replicas, as its Leases say. */
export interface ShardGroup {
  name: string;
  shards: number;
  /** Per shard: its holder while the Lease is current (`''` when free or expired), and when it was renewed. */
  holders: { shard: number; holder: string; renewTime?: string }[];
}

/** The sharded controller groups whose Leases live in `namespace` (none when there are none, or they may not be read). */
export async function readShardGroups(kube: KubeClient, namespace: string, now = Date.now()): Promise<ShardGroup[]> {
  let leases: LeaseObject[];
  try {
    leases = (
      await kube.list<LeaseObject>('coordination.k8s.io/v1', 'Lease', { namespace, labelSelector: LABEL_SHARD_GROUP })
    ).items;
  } catch (err) {
    if (isForbidden(err) || isNotFound(err)) return [];
    throw err;
  }
  const current = (l: LeaseObject | undefined) =>
    !!l?.spec?.holderIdentity && Date.parse(l.spec.renewTime ?? '') + (l.spec.leaseDurationSeconds ?? 0) * 1000 > now;
  const configs = leases.filter((l) => l.metadata.labels?.[LABEL_SHARD_ROLE] === 'config' && current(l));
  return configs.map((config) => {
    const name = config.metadata.labels![LABEL_SHARD_GROUP]!;
    const shards = Number(config.metadata.annotations?.[ANNOTATION_SHARDS] ?? 0);
    const holders = Array.from({ length: shards }, (_, shard) => {
      const lease = leases.find((l) => l.metadata.name === shardLeaseName(name, shard));
      return {
        shard,
        holder: current(lease) ? lease!.spec!.holderIdentity! : '',
        ...(lease?.spec?.renewTime ? { renewTime: lease.spec.renewTime } : {}),
      };
    });
    return { name, shards, holders };
  });
}

/** `reconciled by <replica> (shard 3 of 12)` for the object `namespace/name`, one line per group. */
export function ownerLines(groups: ShardGroup[], namespace: string, name: string): string[] {
  return groups.map((g) => {
    const shard = shardOf(`${namespace}/${name}`, g.shards);
    const holder = g.holders[shard]?.holder;
    return `reconciled by ${holder || 'no replica right now'} (shard ${shard} of ${g.shards}${groups.length > 1 ? `, group ${g.name}` : ''})`;
  });
}

/** A table of every shard and its holder, and how many shards each replica holds. */
export function shardTable(groups: ShardGroup[]): string {
  if (!groups.length) return 'no sharded controllers (no current shard Leases)\n';
  return groups
    .map((g) => {
      const perReplica = new Map<string, number>();
      for (const h of g.holders) if (h.holder) perReplica.set(h.holder, (perReplica.get(h.holder) ?? 0) + 1);
      const summary =
        [...perReplica]
          .sort()
          .map(([r, n]) => `${r}: ${n}`)
          .join(', ') || 'none';
      return `group ${g.name}: ${g.shards} shards; held per replica: ${summary}\n\n${table([['SHARD', 'HOLDER', 'RENEWED'], ...g.holders.map((h) => [String(h.shard), h.holder || '<free>', h.renewTime ?? '-'])])}`;
    })
    .join('\n');
}
