import { ROLLBACK_CONFLICT_ATTEMPTS, rollbackComponent, ROLLBACK_FIELD_MANAGER } from '../apply/index.js';
import { isConflict } from '../kube/index.js';
import { TrellisError } from '../lib/errors.js';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { getApplication, rollbackApplication } from './app-revisions.js';
import { parse } from './args.js';
import { connect, KUBE_OPTIONS, KUBE_USAGE } from './kube-args.js';

const usage = `trellis rollback — pin a component of an ApplicationConfiguration to an earlier revision

Usage: trellis rollback <appconfig> --component <name> [--to <revision>] [options]
       trellis rollback <application> [--to <revision>] [options]

Options:
  --component <name>    the component to roll back (ApplicationConfiguration)
  --to <revision>       the revision (web-v2, v2 or 2; default: the one before the current)
${KUBE_USAGE}

The component entry gets \`revisionName\` instead of \`componentName\`, so it stays on that revision
until you set \`componentName\` again. Written with server-side apply (field manager
trellis-rollback); if you apply the AppConfig from a file later, that file decides again.

Without --component, <application> is a KubeVela Application (core.oam.dev/v1beta1): its spec —
components, properties, traits and their properties, policies, workflow — becomes the one recorded in
ApplicationRevision <application>-v<N> (\`trellis revisions <application>\` lists them), written with
server-side apply (trellis-rollback, forced); the controller renders it as the next revision.`;

export const rollbackCommand: Command = {
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      ...KUBE_OPTIONS,
      component: { type: 'string' },
      to: { type: 'string' },
    });
    if (positionals.length !== 1) throw new UsageError('name one ApplicationConfiguration or Application');
    const appName = positionals[0]!;
    const componentName = values.component;
    const to = values.to ? { to: values.to } : {};
    const { kube, namespace } = await connect(values, io, ROLLBACK_FIELD_MANAGER);
    try {
      if (!componentName) {
        for (let attempt = 1; ; attempt++) {
          const app = await getApplication(kube, namespace, appName);
          if (!app) {
            const appConfig = await kube
              .getOrNull({
                apiVersion: 'core.oam.dev/v1alpha2',
                kind: 'ApplicationConfiguration',
                name: appName,
                namespace,
              })
              .catch(() => undefined);
            if (appConfig) throw new UsageError('--component is required for an ApplicationConfiguration');
            throw new TrellisError('TRL_ROLLBACK_NOT_FOUND', 'no such Application or ApplicationConfiguration', {
              object: `Application/${namespace}/${appName}`,
            });
          }
          try {
            io.out.write(await rollbackApplication(kube, app, values.to));
            return 0;
          } catch (err) {
            if (!isConflict(err) || attempt >= ROLLBACK_CONFLICT_ATTEMPTS) throw err;
          }
        }
      }
      const result = await rollbackComponent(kube, { namespace, app: appName, component: componentName, ...to });
      io.out.write(`${result.message}\n`);
      return 0;
    } finally {
      kube.close();
    }
  },
};
