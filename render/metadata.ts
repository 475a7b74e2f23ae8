/** The labels and annotations every rendered object carries (DESIGN.md §3; keys in apis/labels.ts). */
import {
  ANNOTATION_ALLOWED_NAMESPACES,
  ANNOTATION_DEFINITION,
  ANNOTATION_OUTPUT,
  ANNOTATION_TRAIT,
  AUXILIARY_WORKLOAD,
  LABEL_APP_NAME,
  LABEL_COMPONENT,
  LABEL_MANAGED_BY,
  LABEL_RESOURCE_TYPE,
  LABEL_REVISION,
  LABEL_TRAIT_RESOURCE,
  LABEL_TRAIT_TYPE,
  LABEL_WORKLOAD_TYPE,
  MANAGED_BY,
} from '../apis/labels.js';
import { TrellisError } from '../lib/errors.js';
import type { KubeObject } from '../kube/types.js';
import type { Provenance } from './types.js';

export interface StampOptions {
  appName: string;
  namespace: string;
  revisionName?: string;
  /** Definition name of the workload or trait type, for `workload.oam.dev/type` / `trait.oam.dev/type`. */
  type?: string;
  source: Provenance;
  /** The definition that rendered the object: its {@link ANNOTATION_ALLOWED_NAMESPACES} say where else it may go. */
  definition?: { metadata?: { annotations?: Record<string, string> } };
  /** More labels (over the template's, under the OAM ones) and annotations: an Application's (KubeVela). */
  extra?: { labels: Record<string, string>; annotations: Record<string, string> };
}

/**
 * The namespace an object goes to: the application's; or the one the template (or the object as
 * written) asks for, when its definition allows that namespace ({@link ANNOTATION_ALLOWED_NAMESPACES}).
 * Any other namespace is refused with TRL_RENDER_NAMESPACE — nothing of the application is created.
 */
export function placeNamespace(
  obj: KubeObject,
  options: Pick<StampOptions, 'namespace' | 'source' | 'definition'>,
): string {
  const asked = obj.metadata?.namespace;
  if (!asked || asked === options.namespace) return options.namespace;
  const allowed = (options.definition?.metadata?.annotations?.[ANNOTATION_ALLOWED_NAMESPACES] ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (allowed.includes('*') || allowed.includes(asked)) return asked;
  const by = options.source.definition ?? `the workload of component "${options.source.component}"`;
  const fix = options.source.definition
    ? `an operator may allow it with the annotation ${ANNOTATION_ALLOWED_NAMESPACES}: "${asked}" on ${options.source.definition}`
    : 'remove metadata.namespace from it';
  // Object and field are part of the reason, so a caller quoting only the reason (a definition's example check) keeps them.
  const what = `${obj.kind}/${obj.metadata?.name ?? '<unnamed>'}: metadata.namespace`;
  throw new TrellisError(
    'TRL_RENDER_NAMESPACE',
    `${what}: asks for namespace "${asked}" outside the application's namespace "${options.namespace}", which ${by} may not write to; nothing was created — ${fix}`,
  );
}

/**
 * KubeVela labels every `outputs` object as a trait's resource, a workload's too (type
 * `AuxiliaryWorkload`, resource type TRAIT), with the output's key in `trait.oam.dev/resource`.
 */
function velaLabels(labels: Record<string, string>, options: StampOptions): void {
  const { source } = options;
  if (source.role === 'trait-output' && options.type) labels[LABEL_TRAIT_TYPE] = options.type;
  if (source.role === 'workload-output') {
    labels[LABEL_RESOURCE_TYPE] = 'TRAIT';
    labels[LABEL_TRAIT_TYPE] = AUXILIARY_WORKLOAD;
  }
  if (source.output) labels[LABEL_TRAIT_RESOURCE] = source.output;
}

/**
 * The object with namespace (see {@link placeNamespace}), the OAM labels and the provenance
 * annotations set (a copy). Labels the template set are kept; the OAM ones win.
 */
export function stamp(obj: KubeObject, options: StampOptions): KubeObject {
  const { source } = options;
  const isTrait = source.role === 'trait' || source.role === 'trait-output';
  const labels: Record<string, string> = {
    ...obj.metadata?.labels,
    ...options.extra?.labels,
    [LABEL_APP_NAME]: options.appName,
    [LABEL_COMPONENT]: source.component,
    [LABEL_RESOURCE_TYPE]: isTrait ? 'TRAIT' : 'WORKLOAD',
    [LABEL_MANAGED_BY]: MANAGED_BY,
  };
  if (options.revisionName) labels[LABEL_REVISION] = options.revisionName;
  if (options.type && (source.role === 'workload' || source.role === 'trait'))
    labels[isTrait ? LABEL_TRAIT_TYPE : LABEL_WORKLOAD_TYPE] = options.type;
  if (options.extra) velaLabels(labels, options);
  const annotations: Record<string, string> = { ...obj.metadata?.annotations, ...options.extra?.annotations };
  if (source.definition) annotations[ANNOTATION_DEFINITION] = source.definition;
  if (source.trait) annotations[ANNOTATION_TRAIT] = source.trait;
  if (source.output) annotations[ANNOTATION_OUTPUT] = source.output;
  const namespace = placeNamespace(obj, options);
  const { namespace: _asked, ...meta } = obj.metadata ?? {};
  const { apiVersion, kind, metadata: _old, ...rest } = obj;
  // apiVersion, kind, metadata first: the order people read objects in.
  return {
    apiVersion,
    kind,
    metadata: { ...meta, namespace, labels, ...(Object.keys(annotations).length ? { annotations } : {}) },
    ...rest,
  };
}
