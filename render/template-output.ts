/** What templates get (`context`) and what they give (`output`, `outputs`), checked. */
import { TrellisError } from '../lib/errors.js';
import type { KubeObject } from '../kube/types.js';
import { contextFieldsRead } from '../cue/index.js';
import type { RenderSubject } from './errors.js';
import { isRecord } from '../lib/is-record.js';

const reads = new Map<string, Set<string> | 'all'>();

/**
 * The `context` a template gets: only the fields it reads (so a cached evaluation depends on no
 * more than it must; `context.output` can be a whole live object). Values that are `undefined` are
 * left out.
 */
export function contextFor(template: string, full: Record<string, unknown>): Record<string, unknown> {
  let read = reads.get(template);
  if (!read) {
    if (reads.size > 2000) reads.clear();
    read = contextFieldsRead(template);
    reads.set(template, read);
  }
  const entries = Object.entries(full).filter(([k, v]) => v !== undefined && (read === 'all' || read.has(k)));
  return Object.fromEntries(entries);
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
