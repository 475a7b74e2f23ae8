import { appEvents, eventTime, type AppConfig, type EventView } from '../dashboard/model.js';
import type { KubeObject } from '../kube/index.js';
import { age, OUTPUT_OPTION, outputFormat, outputUsage, parse, table } from './args.js';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { connect, KUBE_OPTIONS, KUBE_USAGE } from './kube-args.js';
import { readAppConfig } from './status.js';
import { stringify } from 'yaml';

const usage = `trellis events — list the Events of an ApplicationConfiguration and its objects, oldest first

Usage: trellis events <appconfig> [options]

Like \`kubectl events\`: the Events about the AppConfig itself and about every object of its
inventory (workloads, trait objects, their children), in its namespace.

Options:
${KUBE_USAGE}
${outputUsage(['yaml', 'json'], 24)}`;

export const eventsCommand: Command = {
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, { ...KUBE_OPTIONS, ...OUTPUT_OPTION });
    const output = outputFormat(values.output, ['yaml', 'json']);
    if (positionals.length !== 1) throw new UsageError('name one ApplicationConfiguration');
    const { kube, namespace } = await connect(values, io);
    try {
      const app = (await readAppConfig(kube, namespace, positionals[0]!)) as AppConfig;
      const { items } = await kube.list<KubeObject & EventView>('v1', 'Event', { namespace });
      const events = appEvents(app, items);
      if (output === 'json' || output === 'yaml') {
        const list = { apiVersion: 'v1', kind: 'List', items: events };
        io.out.write(output === 'json' ? `${JSON.stringify(list, null, 2)}\n` : stringify(list, { lineWidth: 0 }));
        return 0;
      }
      if (!events.length) {
        io.err.write(`No Events for ApplicationConfiguration ${namespace}/${positionals[0]} or its objects.\n`);
        return 0;
      }
      io.out.write(
        table([
          ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
          ...events.map((e) => [
            age(eventTime(e)),
            e.type ?? '',
            e.reason ?? '',
            `${e.involvedObject?.kind}/${e.involvedObject?.name}`,
            `${e.message ?? ''}${(e.count ?? 1) > 1 ? ` (x${e.count})` : ''}`,
          ]),
        ]),
      );
      return 0;
    } finally {
      kube.close();
    }
  },
};
