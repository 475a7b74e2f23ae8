import {
  componentOfRevision,
  findRevision,
  listRevisions,
  previousRevision,
  revisionNumber,
} from '../controllers/component/index.js';
import type { ApplicationConfiguration, Component } from '../controllers/types.js';
import { isConflict, type KubeClient } from '../kube/index.js';
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

export const ROLLBACK_FIELD_MANAGER = 'trellis-rollback';

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
            if (!isConflict(err) || attempt >= CONFLICT_ATTEMPTS) throw err;
          }
        }
      }
      // The controller writes the AppConfig's status (a new resourceVersion) while it reconciles: on
      // a conflict, read the AppConfig again and decide again.
      for (let attempt = 1; ; attempt++) {
        try {
          io.out.write(await pin(kube, namespace, appName, componentName, values.to));
          return 0;
        } catch (err) {
          if (!isConflict(err) || attempt >= CONFLICT_ATTEMPTS) throw err;
        }
      }
    } finally {
      kube.close();
    }
  },
};

/** How often `trellis rollback` reads and writes again when the AppConfig changed in between. */
const CONFLICT_ATTEMPTS = 5;

/**
 * Pins the component's entry to the target revision; answers the line to print. Rejects with a
 * conflict (`isConflict`) when the AppConfig changed after it was read.
 */
async function pin(
  kube: KubeClient,
  namespace: string,
  appName: string,
  componentName: string,
  to: string | undefined,
): Promise<string> {
  const where = `ApplicationConfiguration/${namespace}/${appName}`;
  const app = await kube.getOrNull<ApplicationConfiguration>({
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'ApplicationConfiguration',
    name: appName,
    namespace,
  });
  if (!app) throw new TrellisError('TRL_ROLLBACK_NOT_FOUND', 'no such ApplicationConfiguration', { object: where });
  const entries = app.spec?.components ?? [];
  const index = entries.findIndex(
    (c) =>
      c.componentName === componentName || (c.revisionName && componentOfRevision(c.revisionName) === componentName),
  );
  if (index < 0)
    throw new TrellisError(
      'TRL_ROLLBACK_COMPONENT',
      `no component "${componentName}" (it has: ${entries.map((c) => c.componentName ?? c.revisionName).join(', ') || 'none'})`,
      { object: where, field: 'spec.components' },
    );
  const entry = entries[index]!;
  const revisions = await listRevisions(kube, namespace, componentName);
  const component = await kube.getOrNull<Component>({
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'Component',
    name: componentName,
    namespace,
  });
  const running = app.status?.workloads?.find((w) => w.componentName === componentName)?.componentRevisionName;
  const currentName = entry.revisionName ?? running ?? component?.status?.latestRevision?.name;
  const current = currentName ? revisionNumber(currentName, componentName) : undefined;
  let target;
  if (to) {
    target = findRevision(revisions, componentName, to);
    if (!target)
      throw new TrellisError(
        'TRL_ROLLBACK_REVISION',
        `no revision "${to}" of component "${componentName}" (it has: ${revisions.map((r) => r.metadata.name).join(', ') || 'none'})`,
        { object: where, field: `spec.components[${index}]` },
      );
  } else {
    if (current === undefined)
      throw new TrellisError(
        'TRL_ROLLBACK_REVISION',
        `cannot tell the current revision of component "${componentName}" (is \`trellis controller\` running?); name one with --to`,
        { object: where, field: `spec.components[${index}]` },
      );
    target = previousRevision(revisions, current);
    if (!target)
      throw new TrellisError(
        'TRL_ROLLBACK_REVISION',
        `no revision before ${currentName} is kept (it has: ${revisions.map((r) => r.metadata.name).join(', ') || 'none'})`,
        { object: where, field: `spec.components[${index}]` },
      );
  }
  if (entry.revisionName === target.metadata.name)
    return `${where}: component ${componentName} is already pinned to ${target.metadata.name}\n`;
  const { componentName: _follow, ...rest } = entry;
  const components = entries.map((c, i) => (i === index ? { ...rest, revisionName: target.metadata.name } : c));
  // spec.components is an atomic list: apply it whole, and only if nobody changed the AppConfig since we read it.
  await kube.apply({
    apiVersion: app.apiVersion,
    kind: app.kind,
    metadata: { name: appName, namespace, resourceVersion: app.metadata.resourceVersion },
    spec: { components },
  });
  return `${where}: component ${componentName} pinned to ${target.metadata.name}${currentName ? ` (was ${currentName})` : ''}\n`;
}
