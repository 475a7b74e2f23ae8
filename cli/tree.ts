import { childView, condition, type AppConfig, type ChildView } from '../dashboard/model.js';
import { parse } from './args.js';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { connect, KUBE_OPTIONS, KUBE_USAGE } from './kube-args.js';
import { readAppConfig } from './status.js';

const usage = `trellis tree — show an ApplicationConfiguration as a tree of what it made, with each object's health

Usage: trellis tree <appconfig> [options]

Like \`vela status --tree\` / \`flux tree\`: the AppConfig, its components (with their revisions), each
component's workload and traits, and the other objects of its inventory under the component that
rendered them, each with its health as the live object says it (replicas ready, Ready, present, missing).

Options:
${KUBE_USAGE}`;

type Ref = { apiVersion?: string; kind?: string; name?: string };
const key = (r: Ref) => `${r.kind}/${r.name}`;
const mark = (healthy: boolean | undefined) => (healthy === undefined ? '' : healthy ? ' ✓' : ' ✗');

/** The lines of the tree: `├─`/`└─` branches, one object a line. */
export function treeLines(app: AppConfig, children: readonly ChildView[]): string[] {
  const byKey = new Map(children.map((c) => [key(c), c]));
  const node = (r: Ref, role = '') => {
    const live = byKey.get(key(r));
    return `${key(r)}${role}  ${live ? `${live.health}${mark(live.healthy)}` : 'not applied'}`;
  };
  const workloads = app.status?.workloads ?? [];
  const named = new Set(
    workloads
      .flatMap((w) => [w.workloadRef, ...(w.traits ?? []).map((t) => t.traitRef)])
      .flatMap((r) => (r ? [key(r)] : [])),
  );
  const components = new Set(workloads.map((w) => w.componentName));
  // Each top-level entry: its line and the lines below it.
  const top: [string, string[]][] = workloads.map((w) => [
    `component ${w.componentName} (revision ${w.componentRevisionName ?? '-'})`,
    [
      ...(w.workloadRef ? [node(w.workloadRef, ' (workload)')] : []),
      ...(w.traits ?? []).flatMap((t) => (t.traitRef ? [node(t.traitRef, ' (trait)')] : [])),
      ...children.filter((c) => c.component === w.componentName && !named.has(key(c))).map((c) => node(c)),
    ],
  ]);
  for (const c of children)
    if (!named.has(key(c)) && !(c.component && components.has(c.component))) top.push([node(c), []]);
  const synced = condition(app, 'Synced')?.status ?? 'Unknown';
  const ready = condition(app, 'Ready')?.status ?? 'Unknown';
  const lines = [`ApplicationConfiguration/${app.metadata.name}  Synced=${synced} Ready=${ready}`];
  top.forEach(([head, below], i) => {
    const last = i === top.length - 1;
    lines.push(`${last ? '└─ ' : '├─ '}${head}`);
    below.forEach((text, j) => lines.push(`${last ? '   ' : '│  '}${j === below.length - 1 ? '└─ ' : '├─ '}${text}`));
  });
  return lines;
}

export const treeCommand: Command = {
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, KUBE_OPTIONS);
    if (positionals.length !== 1) throw new UsageError('name one ApplicationConfiguration');
    const { kube, namespace } = await connect(values, io);
    try {
      const app = (await readAppConfig(kube, namespace, positionals[0]!)) as AppConfig;
      const children = await Promise.all(
        (app.status?.inventory ?? []).map((e) => childView(kube, { ...e, namespace: e.namespace ?? namespace })),
      );
      io.out.write(`${treeLines(app, children).join('\n')}\n`);
      return 0;
    } finally {
      kube.close();
    }
  },
};
