import { formatChanges, type PlannedObject } from '../apply/index.js';

const SYMBOL = { create: '+', update: '~', prune: '-', unchanged: '=', refuse: '!' } as const;

function describe(ref: PlannedObject['ref']): string {
  return `${ref.kind}/${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

/**
 * The plan as a person reads it: one line per object that changes (`+ create`, `~ update`,
 * `- prune`, `! refuse` for what someone else holds) followed by its field diff, then a summary line. Unchanged objects are counted only.
 * Diffs of new objects are cut after `maxCreateLines` lines.
 */
export function formatPlan(plan: PlannedObject[], options: { maxCreateLines?: number } = {}): string[] {
  const max = options.maxCreateLines ?? 12;
  const lines: string[] = [];
  const count = { create: 0, update: 0, prune: 0, unchanged: 0, refuse: 0 };
  for (const item of plan) {
    count[item.action]++;
    if (item.action === 'unchanged') continue;
    lines.push(
      `${SYMBOL[item.action]} ${item.action.padEnd(6)} ${describe(item.ref)}${item.refusal ? `: held by ${item.refusal.holder}` : ''}`,
    );
    const diff = formatChanges(item.changes);
    const shown = item.action === 'create' ? diff.slice(0, max) : diff;
    lines.push(...shown.map((l) => `      ${l}`));
    if (shown.length < diff.length) lines.push(`      … ${diff.length - shown.length} more fields`);
  }
  lines.push(
    `${count.create} to create, ${count.update} to update, ${count.prune} to prune, ${count.unchanged} unchanged${count.refuse ? `, ${count.refuse} refused (someone else's)` : ''}.`,
  );
  return lines;
}
