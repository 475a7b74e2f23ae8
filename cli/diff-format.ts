import type { FieldChange } from '../apply/index.js';

/** One object `trellis diff` reports: what applying would do to it, field by field, and why. */
export interface ObjectDiff {
  /** `Deployment/default/web` */
  id: string;
  action: 'create' | 'update' | 'prune' | 'refuse';
  /** Where the object comes from: `examples/app.yaml`, `component "web" of ApplicationConfiguration/default/shop`. */
  from: string;
  changes: (FieldChange & { origin: string })[];
  /** For `refuse`: who holds it. */
  refusal?: string;
}

const SIGN = { create: '+', update: '~', prune: '-', refuse: '!' } as const;
const show = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v));

/**
 * The report: one block per object, one line per changed field with its old and new value and a
 * comment saying what set it (left out when it is the object's own source, a file); then a summary line.
 *
 * @example
 *   ~ Deployment/default/web (component "web" of ApplicationConfiguration/default/shop)
 *       spec.template.spec.containers[0].image: "nginx:1.27" → "nginx:1.28"
 *           # parameter "image" of component "web" (WorkloadDefinition/webservice)
 */
export function formatDiffs(diffs: ObjectDiff[], unchanged: number): string {
  const lines: string[] = [];
  for (const d of diffs) {
    const what = d.action === 'prune' ? ', would be deleted' : d.action === 'create' ? ', would be created' : '';
    lines.push(`${SIGN[d.action]} ${d.id} (${d.from}${what})`);
    if (d.refusal) lines.push(`    not changed: ${d.refusal}`);
    for (const c of d.changes) {
      lines.push(`    ${c.path}: ${show(c.before)} → ${c.after === undefined ? '(removed)' : show(c.after)}`);
      if (c.origin !== d.from) lines.push(`        # ${c.origin}`);
    }
  }
  const count = (action: ObjectDiff['action']) => diffs.filter((d) => d.action === action).length;
  const parts = [
    [count('update'), 'changed'],
    [count('create'), 'created'],
    [count('prune'), 'deleted'],
    [count('refuse'), 'refused (held by another owner)'],
  ].filter(([n]) => n) as [number, string][];
  if (!parts.length)
    return `No changes: ${unchanged} object${unchanged === 1 ? ' is' : 's are'} as applying would leave ${unchanged === 1 ? 'it' : 'them'}.\n`;
  lines.push(
    '',
    `${parts.map(([n, what]) => `${n} ${n === 1 ? 'object' : 'objects'} ${what}`).join(', ')}; ${unchanged} unchanged.`,
  );
  return `${lines.join('\n')}\n`;
}
