import { stringify } from 'yaml';
import type { ApplicationConfiguration } from '../controllers/types.js';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { age, OUTPUT_OPTION, outputFormat, outputUsage, parse, table } from './args.js';
import { connect, KUBE_OPTIONS, KUBE_USAGE } from './kube-args.js';

const usage = `trellis ls — list ApplicationConfigurations with whether each is synced and ready

Usage: trellis ls [-n <namespace> | -A] [-o wide|yaml|json|name] [options]

One line per ApplicationConfiguration (as \`vela ls\`, \`flux get kustomizations -A\`): its components,
its Synced and Ready conditions, and how long ago it was made; \`-o wide\` adds the components'
revisions and why it is not ready. \`trellis status <name>\` shows one in full.

Options:
  -A, --all-namespaces  every namespace (adds a NAMESPACE column)
${KUBE_USAGE}
${outputUsage(['wide', 'yaml', 'json', 'name'], 24)}`;

const condition = (app: ApplicationConfiguration, type: string) => app.status?.conditions?.find((c) => c.type === type);

/** Why it is not synced or ready, from the first condition that is not True. */
function reason(app: ApplicationConfiguration): string {
  const bad = (app.status?.conditions ?? []).find((c) => c.status !== 'True');
  if (!bad) return app.status?.observedGeneration === undefined ? 'not reconciled yet' : '';
  return `${bad.type} ${bad.reason ?? bad.status}${bad.message ? `: ${bad.message}` : ''}`;
}

export const lsCommand: Command = {
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      ...KUBE_OPTIONS,
      ...OUTPUT_OPTION,
      'all-namespaces': { type: 'boolean', short: 'A' },
    });
    if (positionals.length) throw new UsageError(`ls takes no arguments (trellis status ${positionals[0]} shows one)`);
    if (values['all-namespaces'] && values.namespace) throw new UsageError('-A lists every namespace: leave out -n');
    const output = outputFormat(values.output, ['wide', 'yaml', 'json', 'name']);
    const { kube, namespace } = await connect(values, io);
    try {
      const all = !!values['all-namespaces'];
      const apps = (
        await kube.list<ApplicationConfiguration>(
          'core.oam.dev/v1alpha2',
          'ApplicationConfiguration',
          all ? {} : { namespace },
        )
      ).items;
      apps.sort((a, b) =>
        `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`),
      );
      if (output === 'json' || output === 'yaml') {
        const list = { apiVersion: 'v1', kind: 'List', items: apps };
        io.out.write(output === 'json' ? `${JSON.stringify(list, null, 2)}\n` : stringify(list, { lineWidth: 0 }));
        return 0;
      }
      if (output === 'name') {
        io.out.write(apps.map((a) => `applicationconfiguration.core.oam.dev/${a.metadata.name}\n`).join(''));
        return 0;
      }
      if (!apps.length) {
        io.err.write(
          all
            ? 'No ApplicationConfigurations in any namespace.\n'
            : `No ApplicationConfigurations in namespace ${namespace}.\n`,
        );
        return 0;
      }
      const wide = output === 'wide';
      const header = [
        ...(all ? ['NAMESPACE'] : []),
        'NAME',
        'COMPONENTS',
        'SYNCED',
        'READY',
        'AGE',
        ...(wide ? ['REVISIONS', 'MESSAGE'] : []),
      ];
      const rows = apps.map((app) => {
        const components = (app.spec?.components ?? []).map((c) => c.componentName ?? c.revisionName ?? '?');
        const revisions = (app.status?.workloads ?? []).map((w) => w.componentRevisionName).filter(Boolean);
        return [
          ...(all ? [app.metadata.namespace!] : []),
          app.metadata.name!,
          components.join(',') || '-',
          condition(app, 'Synced')?.status ?? 'Unknown',
          condition(app, 'Ready')?.status ?? 'Unknown',
          age(app.metadata.creationTimestamp),
          ...(wide ? [revisions.join(',') || '-', reason(app)] : []),
        ];
      });
      io.out.write(table([header, ...rows]));
      return 0;
    } finally {
      kube.close();
    }
  },
};
