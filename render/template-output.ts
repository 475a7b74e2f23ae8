/** What templates get (`context`) and what they give (`output`, `outputs`), checked. */
import { TrellisError } from '../lib/errors.js';
import type { KubeObject } from '../kube/types.js';
import { contextPathsRead } from '../cue/index.js';
import type { RenderSubject } from './errors.js';
import { isRecord } from '../lib/is-record.js';

const reads = new Map<string, Map<string, string[][]> | 'all'>();

/**
 * The `context` a template gets: only what it reads (so a cached evaluation depends on no more
 * than it must): the fields it names, and of each only the paths it selects — a health policy
 * reading `context.output.status.readyReplicas` gets that of the live object, not its
 * resourceVersion or other status fields, so a new version that changed nothing it reads is a
 * cache hit (cue/source.ts `contextPathsRead`). Values that are `undefined` are left out.
 */
export function contextFor(template: string, full: Record<string, unknown>): Record<string, unknown> {
  let read = reads.get(template);
  if (!read) {
    if (reads.size > 2000) reads.clear();
    read = contextPathsRead(template);
    reads.set(template, read);
  }
  const entries = Object.entries(full).flatMap(([k, v]): [string, unknown][] => {
    if (v === undefined) return [];
    if (read === 'all') return [[k, v]];
    const paths = read.get(k);
    return paths ? [[k, project(v, paths)]] : [];
  });
  return Object.fromEntries(entries);
}

/** What of `value` the `paths` reach, the end of each path whole; all of it where a path ends or it is no object. */
function project(value: unknown, paths: string[][]): unknown {
  if (!isRecord(value) || paths.some((p) => !p.length)) return value;
  const next = new Map<string, string[][]>();
  for (const [head, ...rest] of paths) next.set(head!, [...(next.get(head!) ?? []), rest]);
  const out: Record<string, unknown> = {};
  for (const [k, rest] of next) if (value[k] !== undefined) out[k] = project(value[k], rest);
  return out;
}

/** A template's `output` (or one of its `outputs`) as a Kubernetes object: apiVersion and kind required. */
export function requireObject(value: unknown, field: string, subject: RenderSubject): KubeObject {
  if (!isRecord(value) || typeof value.apiVersion !== 'string' || typeof value.kind !== 'string') {
    throw new TrellisError(
      'TRL_RENDER_TEMPLATE',
      `cannot render ${subject.what}: the template's "${field}" must be a Kubernetes object with apiVersion and kind`,
      {
        object: subject.definition ?? subject.object,
        field: subject.definition ? 'spec.schematic.cue.template' : subject.field,
      },
    );
  }
  // A new top level and metadata: the value itself is shared with the CUE cache.
  const obj = value as KubeObject;
  return { ...obj, metadata: isRecord(obj.metadata) ? { ...obj.metadata } : {} };
}

/** A template's `outputs`, in the order it declares them, each named `<name>-<key>` unless it names itself. */
export function outputsOf(
  outputs: unknown,
  subject: RenderSubject,
  baseName: string,
): { key: string; object: KubeObject }[] {
  if (outputs === undefined) return [];
  if (!isRecord(outputs)) {
    throw new TrellisError(
      'TRL_RENDER_TEMPLATE',
      `cannot render ${subject.what}: the template's "outputs" must map names to objects`,
      { object: subject.definition ?? subject.object, field: 'spec.schematic.cue.template' },
    );
  }
  return Object.entries(outputs).map(([key, value]) => {
    const object = requireObject(value, `outputs.${key}`, subject);
    object.metadata.name ??= `${baseName}-${key}`;
    return { key, object };
  });
}
