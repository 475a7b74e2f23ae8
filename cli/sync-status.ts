import { API_VERSION, type GitSync } from '../apis/generated/gitops.trellis.dev-v1alpha1.js';
import { LocalInventory } from '../gitops/index.js';
import type { KubeClient, KubeObject } from '../kube/index.js';
import { TrellisError } from '../lib/errors.js';
import type { CommandIO } from './command.js';

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const short = (sha: string | undefined) => (sha ? sha.slice(0, 12) : '-');

function ago(time: string | undefined, now: number): string {
  if (!time) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(time)) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
}

/**
 * `trellis sync status`: every GitSync (ready, applied and fetched commit, last result) and every
 * `trellis sync` run; with a name, that GitSync's conditions and its last sync results.
 */
export async function syncStatus(
  kube: KubeClient,
  options: { name?: string | undefined; namespace?: string | undefined },
  io: CommandIO,
): Promise<number> {
  const now = Date.now();
  const { items } = await kube.list<GitSync & KubeObject>(
    API_VERSION,
    'GitSync',
    options.namespace ? { namespace: options.namespace } : {},
  );
  if (options.name) {
    const gs = items.find((g) => g.metadata.name === options.name);
    if (!gs)
      throw new TrellisError('TRL_GITOPS_NOT_FOUND', 'does not exist', {
        object: `GitSync/${options.namespace ?? '*'}/${options.name}`,
      });
    const s = gs.status ?? {};
    io.out.write(
      `GitSync ${gs.metadata.namespace}/${gs.metadata.name}: ${gs.spec.url}${gs.spec.path ? ` (path ${gs.spec.path})` : ''}${gs.spec.suspend ? ' [suspended]' : ''}\n`,
    );
    io.out.write(
      `  applied ${short(s.lastAppliedCommit)}, fetched ${short(s.lastFetchedCommit)}, ${s.inventory?.length ?? 0} object(s) in inventory\n`,
    );
    for (const c of s.conditions ?? []) io.out.write(`  ${c.type}=${c.status} ${c.reason ?? ''}: ${c.message ?? ''}\n`);
    io.out.write('  Last syncs:\n');
    io.out.write(
      `${table([['    TIME', 'RESULT', 'COMMIT', 'APPLIED', 'PRUNED', 'MS', 'MESSAGE'], ...(s.history ?? []).map((h) => [`    ${h.time}`, h.result, short(h.commit), String(h.applied ?? '-'), String(h.pruned ?? '-'), String(h.durationMs ?? '-'), h.message ?? ''])])}\n`,
    );
    return 0;
  }
  const rows = [['NAMESPACE', 'NAME', 'READY', 'REASON', 'APPLIED', 'FETCHED', 'LAST SYNC', 'MESSAGE']];
  for (const gs of items) {
    const ready = gs.status?.conditions?.find((c) => c.type === 'Ready');
    rows.push([
      gs.metadata.namespace!,
      gs.metadata.name!,
      gs.spec.suspend ? 'Suspended' : (ready?.status ?? 'Unknown'),
      ready?.reason ?? '-',
      short(gs.status?.lastAppliedCommit),
      short(gs.status?.lastFetchedCommit),
      ago(gs.status?.lastSyncTime, now),
      (ready?.message ?? '').slice(0, 100),
    ]);
  }
  io.out.write(
    items.length
      ? `GitSyncs:\n${table(rows)}\n`
      : `No GitSyncs${options.namespace ? ` in namespace ${options.namespace}` : ''}.\n`,
  );
  const local = await LocalInventory.list(kube, options.namespace);
  if (local.length) {
    const localRows = [['NAMESPACE', 'NAME', 'SOURCE', 'REVISION', 'OBJECTS', 'APPLIED']];
    for (const r of local)
      localRows.push([
        r.namespace,
        r.name,
        r.source,
        short(r.revision),
        String(r.inventory.length),
        ago(r.appliedAt, now),
      ]);
    io.out.write(`\n\`trellis sync\` runs:\n${table(localRows)}\n`);
  }
  return 0;
}
