import type { ApplicationConfiguration, Component } from '../controllers/types.js';
import { TrellisError } from '../lib/errors.js';
import type { KubeClient } from '../kube/index.js';
import type { Command, CommandIO } from './command.js';
import { UsageError } from './command.js';
import { age, OUTPUT_OPTION, outputFormat, outputUsage, parse, table } from './args.js';
import { stringify } from 'yaml';
import { connect, KUBE_OPTIONS, KUBE_USAGE } from './kube-args.js';
import { ownerLines, readShardGroups, shardTable } from './shard-owners.js';

const usage = `trellis status — show an ApplicationConfiguration: conditions, components, revisions, traits, health

Usage: trellis status <appconfig> [options]
       trellis status --shards [options]

With sharded controllers (\`trellis controller --shards\`) it also names the replica reconciling the
AppConfig; --shards lists every shard and the replica holding it.

Options:
${KUBE_USAGE}
  --shards                     list the shards of the sharded controllers and their holders
  --controller-namespace <ns>  where the controllers' Leases are (default trellis-system)
${outputUsage(['yaml', 'json'], 31, 'the summary above')}`;

/** Prints what `trellis status` shows for one AppConfig (also used by `trellis apply` on failure). */
export function printStatus(
  io: CommandIO,
  app: ApplicationConfiguration,
  latest: Map<string, string | undefined>,
): void {
  const s = app.status ?? {};
  io.out.write(
    `ApplicationConfiguration ${app.metadata.namespace}/${app.metadata.name}  (${s.phase ?? 'not reconciled yet'}; generation ${app.metadata.generation}, observed ${s.observedGeneration ?? '-'})\n\n`,
  );
  // Synced carries upstream's reason (ReconcileSuccess/ReconcileError); Trellis' own (syncReason) says more.
  const conditions = s.conditions ?? [];
  if (conditions.length) {
    io.out.write(
      table([
        ['CONDITION', 'STATUS', 'REASON', 'SINCE', 'MESSAGE'],
        ...conditions.map((c) => [
          c.type,
          c.status,
          (c.type === 'Synced' ? s.syncReason : undefined) ?? c.reason ?? '',
          age(c.lastTransitionTime),
          c.message ?? '',
        ]),
      ]),
    );
    io.out.write('\n');
  }
  const workloads = s.workloads ?? [];
  if (workloads.length) {
    const rows = [['COMPONENT', 'REVISION', 'WORKLOAD', 'HEALTH', 'TRAITS', 'SCOPES']];
    for (const w of workloads) {
      const newest = w.componentName ? latest.get(w.componentName) : undefined;
      const revision = `${w.componentRevisionName ?? '-'}${newest && newest !== w.componentRevisionName ? ` (latest ${newest})` : ''}`;
      const health = w.dependencyUnsatisfied
        ? 'waiting for data'
        : `${w.healthy ? 'healthy' : 'unhealthy'}: ${w.message ?? ''}${w.status ? ` (${w.status})` : ''}`;
      const traits =
        (w.traits ?? [])
          .map(
            (t) =>
              `${t.traitRef?.kind}/${t.traitRef?.name} (${t.dependencyUnsatisfied ? 'waiting' : t.healthy ? 'healthy' : 'unhealthy'}${!t.healthy && t.message ? `: ${t.message}` : ''})`,
          )
          .join(', ') || '-';
      const scopes = (w.scopes ?? []).map((x) => `${x.scopeRef?.kind}/${x.scopeRef?.name}`).join(', ') || '-';
      rows.push([
        w.componentName ?? '-',
        revision,
        `${w.workloadRef?.kind}/${w.workloadRef?.name}`,
        health,
        traits,
        scopes,
      ]);
    }
    io.out.write(table(rows));
  } else if (s.observedGeneration !== undefined) {
    io.out.write('no components\n');
  }
  for (const u of s.dependency?.unsatisfied ?? [])
    io.out.write(
      `\nwaiting: ${u.to?.kind}/${u.to?.name} (${(u.to?.fieldPaths ?? []).join(', ')}) ← ${u.from?.kind}/${u.from?.name} ${u.from?.fieldPath ?? ''}: ${u.reason}`,
    );
  if (s.dependency?.unsatisfied?.length) io.out.write('\n');
  const ref = (r: { kind: string; name: string; namespace?: string }) =>
    `${r.kind}/${r.namespace && r.namespace !== app.metadata.namespace ? `${r.namespace}/` : ''}${r.name}`;
  for (const r of s.ownership?.refused ?? [])
    io.out.write(
      `\nrefused: ${ref(r.reference)} — ${r.holder} holds it, so it is not applied (see the Synced message)`,
    );
  for (const a of s.ownership?.adopted ?? [])
    io.out.write(`\nadopted: ${ref(a.reference)} — ${a.from}, at ${a.time ?? '?'}`);
  if (s.ownership?.refused?.length || s.ownership?.adopted?.length) io.out.write('\n');
  if (s.historyWorkloads?.length)
    io.out.write(
      `\nkept from earlier revisions: ${s.historyWorkloads.map((h) => `${h.workloadRef?.kind}/${h.workloadRef?.name} (${h.revision})`).join(', ')}\n`,
    );
}

/** The named AppConfig, or a TRL_STATUS_NOT_FOUND error naming it (`trellis status`, `tree`, `events`). */
export async function readAppConfig(
  kube: KubeClient,
  namespace: string,
  name: string,
): Promise<ApplicationConfiguration> {
  const app = await kube.getOrNull<ApplicationConfiguration>({
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'ApplicationConfiguration',
    name,
    namespace,
  });
  if (!app)
    throw new TrellisError('TRL_STATUS_NOT_FOUND', 'no such ApplicationConfiguration', {
      object: `ApplicationConfiguration/${namespace}/${name}`,
    });
  return app;
}

export const statusCommand: Command = {
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      ...KUBE_OPTIONS,
      ...OUTPUT_OPTION,
      shards: { type: 'boolean' },
      'controller-namespace': { type: 'string' },
    });
    const output = outputFormat(values.output, ['yaml', 'json']);
    if (values.shards ? positionals.length !== 0 : positionals.length !== 1)
      throw new UsageError(values.shards ? '--shards takes no AppConfig name' : 'name one ApplicationConfiguration');
    const { kube, namespace } = await connect(values, io);
    const leases = values['controller-namespace'] ?? 'trellis-system';
    try {
      if (values.shards) {
        io.out.write(shardTable(await readShardGroups(kube, leases)));
        return 0;
      }
      const app = await readAppConfig(kube, namespace, positionals[0]!);
      if (output === 'json' || output === 'yaml') {
        io.out.write(output === 'json' ? `${JSON.stringify(app, null, 2)}\n` : stringify(app, { lineWidth: 0 }));
        return 0;
      }
      const latest = new Map<string, string | undefined>();
      for (const w of app.status?.workloads ?? []) {
        if (!w.componentName || latest.has(w.componentName)) continue;
        const c = await kube.getOrNull<Component>({
          apiVersion: 'core.oam.dev/v1alpha2',
          kind: 'Component',
          name: w.componentName,
          namespace,
        });
        latest.set(w.componentName, c?.status?.latestRevision?.name);
      }
      printStatus(io, app, latest);
      const owners = ownerLines(await readShardGroups(kube, leases), namespace, positionals[0]!);
      if (owners.length) io.out.write(`\n${owners.join('\n')}\n`);
      return 0;
    } finally {
      kube.close();
    }
  },
};
