import { diffObjects, formatChanges } from '../apply/index.js';
import { listRevisions, revisionNumber, type ComponentRevision } from '../controllers/component/index.js';
import { ROLLOUT_API_VERSION, type Rollout } from '../controllers/rollout/index.js';
import type { ApplicationConfiguration, Component } from '../controllers/types.js';
import type { KubeClient } from '../kube/index.js';
import { TrellisError } from '../lib/errors.js';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { applicationRevisionsReport, getApplication } from './app-revisions.js';
import { age, parse, table } from './args.js';
import { connect, KUBE_OPTIONS, KUBE_USAGE } from './kube-args.js';

const usage = `trellis revisions — list a Component's or Application's revisions, and what a rollback would change

Usage: trellis revisions <component> [options]
       trellis revisions <application> [options]

TRAFFIC is the share each revision gets in each ApplicationConfiguration using the component: from
its rollout trait (the HTTPRoute's weights), else 100% for the revision it runs.

A name with no Component nor Component revisions but a KubeVela Application (core.oam.dev/v1beta1)
lists its ApplicationRevisions; \`trellis rollback <application> --to <revision>\` restores one.

Options:
${KUBE_USAGE}`;

const asObject = (spec: unknown) => ({ apiVersion: '', kind: '', metadata: {}, spec });

export const revisionsCommand: Command = {
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, KUBE_OPTIONS);
    if (positionals.length !== 1) throw new UsageError('name one component');
    const name = positionals[0]!;
    const { kube, namespace } = await connect(values, io);
    try {
      const component = await kube.getOrNull<Component>({
        apiVersion: 'core.oam.dev/v1alpha2',
        kind: 'Component',
        name,
        namespace,
      });
      const revisions = await listRevisions(kube, namespace, name);
      const application = !component && !revisions.length ? await getApplication(kube, namespace, name) : undefined;
      if (application) {
        io.out.write(await applicationRevisionsReport(kube, application));
        return 0;
      }
      if (!component && !revisions.length)
        throw new TrellisError('TRL_COMPONENT_NOT_FOUND', 'no such Component or Application, and no revisions of it', {
          object: `Component/${namespace}/${name}`,
        });
      if (!revisions.length) {
        io.out.write(`Component/${namespace}/${name} has no revisions yet (is \`trellis controller\` running?)\n`);
        return 0;
      }
      const currentName = component?.status?.latestRevision?.name ?? revisions.at(-1)!.metadata.name!;
      const current = revisions.find((r) => r.metadata.name === currentName) ?? revisions.at(-1)!;
      const diffs = new Map<ComponentRevision, string[]>(
        revisions.map((r) => [r, formatChanges(diffObjects(asObject(current.data.spec), asObject(r.data.spec)))]),
      );
      const traffic = await trafficByRevision(kube, namespace, name);
      const rows = [['REVISION', 'NAME', 'AGE', 'TRAFFIC', `CHANGES AGAINST ${current.metadata.name}`]];
      for (const r of [...revisions].reverse()) {
        const lines = diffs.get(r)!;
        const changed = new Set(lines.map((l) => l.slice(2, l.indexOf(':')))).size;
        rows.push([
          String(r.revision),
          r.metadata.name!,
          age(r.metadata.creationTimestamp),
          traffic.get(r.metadata.name!)?.join(', ') || '-',
          r === current ? 'current' : changed ? `${changed} field${changed === 1 ? '' : 's'}` : 'same spec',
        ]);
      }
      io.out.write(table(rows));
      const elsewhere = [...traffic.keys()].filter((r) => !revisions.some((x) => x.metadata.name === r));
      if (elsewhere.length) {
        io.out.write(
          `\ntraffic also goes to revisions of the workload's own (${elsewhere.map((r) => `${r}: ${traffic.get(r)!.join(', ')}`).join('; ')}); for a function: kubectl get fnrev -l serverless.trellis.dev/function=${name}\n`,
        );
      }
      if (
        component &&
        revisionNumber(currentName, name) !== undefined &&
        component.status?.observedGeneration !== component.metadata.generation
      ) {
        io.out.write(`\nnote: the Component changed since ${currentName}; its next revision is not recorded yet\n`);
      }
      for (const r of [...revisions].reverse()) {
        const lines = diffs.get(r)!;
        if (r === current || !lines.length) continue;
        io.out.write(
          `\nrollback to ${r.metadata.name} would change (- ${current.metadata.name}, + ${r.metadata.name}):\n${lines.map((l) => `  ${l}`).join('\n')}\n`,
        );
      }
      return 0;
    } finally {
      kube.close();
    }
  },
};

/**
 * Which revisions of the component serve traffic, by revision: `80% (shop)` per ApplicationConfiguration,
 * from its Rollout's weights (the route) when the component has the rollout trait there, else 100%
 * for the revision it runs.
 */
async function trafficByRevision(
  kube: KubeClient,
  namespace: string,
  component: string,
): Promise<Map<string, string[]>> {
  const [apps, rollouts] = await Promise.all([
    kube
      .list<ApplicationConfiguration>('core.oam.dev/v1alpha2', 'ApplicationConfiguration', { namespace })
      .then((l) => l.items)
      .catch(() => []),
    kube
      .list<Rollout>(ROLLOUT_API_VERSION, 'Rollout', { namespace, labelSelector: `app.oam.dev/component=${component}` })
      .then((l) => l.items)
      .catch(() => []),
  ]);
  const traffic = new Map<string, string[]>();
  const add = (revision: string, share: string) => traffic.set(revision, [...(traffic.get(revision) ?? []), share]);
  for (const app of apps) {
    const appName = app.metadata.name!;
    const rollout = rollouts.find(
      (r) =>
        r.metadata.labels?.['app.oam.dev/name'] === appName &&
        r.spec?.component === component &&
        r.status?.weights?.length,
    );
    if (rollout) {
      for (const w of rollout.status!.weights!) if (w.weight > 0) add(w.revision, `${w.weight}% (${appName})`);
      continue;
    }
    for (const w of app.status?.workloads ?? [])
      if (w.componentName === component && w.componentRevisionName) add(w.componentRevisionName, `100% (${appName})`);
  }
  return traffic;
}
