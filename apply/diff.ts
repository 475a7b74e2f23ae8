import { ANNOTATION_APPLIED_HASH } from '../apis/labels.js';
import type { KubeObject } from '../kube/types.js';
import { jsonEqual } from '../lib/equal.js';
import { isRecord } from '../lib/is-record.js';

/** One changed leaf between two versions of an object. */
export interface FieldChange {
  path: string;
  /** Absent when the field is new. */
  before?: unknown;
  /** Absent when the field was removed. */
  after?: unknown;
}

const VOLATILE_METADATA = ['managedFields', 'resourceVersion', 'generation', 'uid', 'creationTimestamp', 'selfLink'];

/** The object without server-maintained bookkeeping and status: what a person compares. */
export function comparable(obj: KubeObject): Record<string, unknown> {
  const { status: _status, ...rest } = obj;
  const metadata = { ...obj.metadata };
  for (const key of VOLATILE_METADATA) delete metadata[key];
  if (metadata.annotations) {
    const annotations = { ...metadata.annotations };
    delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
    delete annotations['deployment.kubernetes.io/revision'];
    delete annotations[ANNOTATION_APPLIED_HASH];
    metadata.annotations = annotations;
    if (!Object.keys(annotations).length) delete metadata.annotations;
  }
  return { ...rest, metadata };
}

/** Leaf-level differences between `before` and `after` (both compared via {@link comparable}). */
export function diffObjects(before: KubeObject | undefined, after: KubeObject): FieldChange[] {
  const changes: FieldChange[] = [];
  walk(before ? comparable(before) : {}, comparable(after), '', changes);
  return changes;
}

function walk(a: unknown, b: unknown, path: string, out: FieldChange[]): void {
  if (isRecord(a) && isRecord(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const child = path ? `${path}.${key}` : key;
      if (!(key in b)) out.push({ path: child, before: a[key] });
      else if (!(key in a)) out.push({ path: child, after: b[key] });
      else walk(a[key], b[key], child, out);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((item, i) => walk(item, b[i], `${path}[${i}]`, out));
    return;
  }
  if (a === undefined) {
    out.push({ path: path || '.', after: b });
    return;
  }
  if (!jsonEqual(a, b)) out.push({ path: path || '.', before: a, after: b });
}

/** `- path: old` / `+ path: new` lines, one per change, for CLI output. */
export function formatChanges(changes: FieldChange[]): string[] {
  const show = (v: unknown) => JSON.stringify(v);
  return changes.flatMap((c) => [
    ...(c.before !== undefined ? [`- ${c.path}: ${show(c.before)}`] : []),
    ...(c.after !== undefined ? [`+ ${c.path}: ${show(c.after)}`] : []),
  ]);
}
