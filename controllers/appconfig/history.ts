import type { HistoryWorkload } from '../../apis/generated/core.oam.dev-v1alpha2.js';
import {
  ANNOTATION_OUTPUT,
  ANNOTATION_TRAIT,
  LABEL_COMPONENT,
  LABEL_RESOURCE_TYPE,
  LABEL_REVISION,
} from '../../apis/labels.js';
import { entryKey, entryOf, type InventoryEntry } from '../../apply/index.js';
import type { KubeObject } from '../../kube/index.js';
import type { RenderedComponent } from '../../render/index.js';

/** What an older revision keeps running under a revisionEnabled trait. */
export interface History {
  /** Inventory entries kept although no longer rendered. */
  entries: InventoryEntry[];
  /** Their workloads, for `status.historyWorkloads`. */
  workloads: HistoryWorkload[];
}

/**
 * The objects of older revisions a revisionEnabled component keeps (DESIGN.md §4.5): each older
 * revision's workload and what it rendered with it (its Service, the per-revision objects of its
 * revisionEnabled traits). All older revisions are kept (upstream's behaviour) unless a revisionEnabled
 * trait object lists the revisions it still needs in `status.revisions` (the `rollout` trait does):
 * then only those, so a finished rollout lets the previous revision go.
 *
 * @param previous what the AppConfig applied before (its inventory)
 * @param current keys (`entryKey`) of what it renders now
 * @param live the live object of an entry, from the informer caches
 */
export function revisionHistory(
  component: RenderedComponent,
  previous: InventoryEntry[],
  current: Set<string>,
  live: (e: InventoryEntry) => KubeObject | undefined,
): History {
  const history: History = { entries: [], workloads: [] };
  if (!component.revisionEnabled) return history;
  const revisionTraits = component.traits.filter((t) => t.definition?.spec?.revisionEnabled);
  const traitNames = new Set(revisionTraits.map((t) => t.name));
  const keep = keptRevisions(revisionTraits.flatMap((t) => (t.object ? [live(entryOf(t.object.object))] : [])));
  for (const e of previous) {
    const obj = live(e);
    const labels = obj?.metadata.labels ?? {};
    const revision = labels[LABEL_REVISION];
    if (
      !obj ||
      current.has(entryKey(e)) ||
      labels[LABEL_COMPONENT] !== component.name ||
      !revision ||
      revision === component.revisionName
    )
      continue;
    const type = labels[LABEL_RESOURCE_TYPE];
    const partOfRevision =
      type === 'WORKLOAD' || (type === 'TRAIT' && traitNames.has(obj.metadata.annotations?.[ANNOTATION_TRAIT] ?? ''));
    if (!partOfRevision || (keep && !keep.has(revision))) continue;
    history.entries.push(e);
    if (
      type === 'WORKLOAD' &&
      e.kind === component.workload.object.kind &&
      !obj.metadata.annotations?.[ANNOTATION_OUTPUT]
    ) {
      history.workloads.push({ revision, workloadRef: { apiVersion: e.apiVersion, kind: e.kind, name: e.name } });
    }
  }
  return history;
}

/** The union of `status.revisions` of the trait objects that report one; undefined (keep all) when none does. */
function keptRevisions(traits: (KubeObject | undefined)[]): Set<string> | undefined {
  let keep: Set<string> | undefined;
  for (const t of traits) {
    const listed = (t?.status as { revisions?: unknown } | undefined)?.revisions;
    if (!Array.isArray(listed)) continue;
    keep ??= new Set();
    for (const r of listed) if (typeof r === 'string') keep.add(r);
  }
  return keep;
}
