/** Which workloads a trait may attach to (`appliesToWorkloads`) and which traits exclude each other (`conflictsWith`). */
import type { TraitDefinition } from '../apis/generated/core.oam.dev-v1alpha2.js';
import { groupOf } from '../lib/api-version.js';

/** What a workload is, in every form an `appliesToWorkloads` entry may name it. */
export interface WorkloadIdentity {
  /** The workload type: the Component's `workload.type`, or the resource name of its kind. */
  type: string;
  apiVersion: string;
  kind: string;
  /** Resource name of the rendered object's kind (`deployments.apps`), when known. */
  resourceName?: string;
}

/**
 * Whether one `appliesToWorkloads` entry matches the workload. Accepted forms:
 * - `*`: any workload;
 * - a definition name (`webservice`) or resource/CRD name (`deployments.apps`, `containerizedworkloads.core.oam.dev`);
 * - `Kind.group` (`Deployment.apps`) and `*.group` (`*.apps`): by the rendered object's kind, so a
 *   trait for Deployments also applies to a webservice (duck typing);
 * - `group/version.Kind` (`core.oam.dev/v1alpha2.ContainerizedWorkload`): the form of conformance 08,
 *   which upstream's webhook never matched; Trellis does (docs/adr/0002-render-api.md).
 */
export function matchesWorkload(entry: string, w: WorkloadIdentity): boolean {
  if (entry === '*') return true;
  const group = groupOf(w.apiVersion);
  if (entry === w.type || entry === w.resourceName) return true;
  if (entry === `${w.kind}.${group}` || (!group && entry === w.kind)) return true;
  if (entry.startsWith('*.') && entry.slice(2) === group) return true;
  return entry === `${w.apiVersion}.${w.kind}`;
}

/** Whether the trait's definition allows the workload (no `appliesToWorkloads` means any). */
export function appliesTo(definition: TraitDefinition | undefined, w: WorkloadIdentity): boolean {
  const entries = definition?.spec?.appliesToWorkloads ?? [];
  return entries.length === 0 || entries.some((e) => matchesWorkload(e, w));
}

/** A trait as conflictsWith sees it: its type (definition name) and definition. */
export interface TraitIdentity {
  name: string;
  type: string;
  definition?: TraitDefinition;
}

/**
 * The first pair of traits that conflict: A's definition lists B's type (or `*`, any other trait) in
 * `conflictsWith`, or the other way round. Two traits of the same type never conflict by `*`.
 */
export function findConflict(
  traits: TraitIdentity[],
): { a: TraitIdentity; b: TraitIdentity; declaredBy: TraitIdentity } | undefined {
  if (!traits.some((t) => t.definition?.spec?.conflictsWith?.length)) return undefined;
  const lists = (t: TraitIdentity, other: TraitIdentity) => {
    const list = t.definition?.spec?.conflictsWith ?? [];
    return (
      list.includes(other.type) ||
      (list.includes('*') && other.type !== t.type) ||
      list.includes(other.type.split('.')[0])
    );
  };
  for (let i = 0; i < traits.length; i++) {
    for (let j = i + 1; j < traits.length; j++) {
      const [a, b] = [traits[i], traits[j]];
      if (lists(a, b)) return { a, b, declaredBy: a };
      if (lists(b, a)) return { a, b, declaredBy: b };
    }
  }
  return undefined;
}
