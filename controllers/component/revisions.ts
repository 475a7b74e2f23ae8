import type { Component } from '../types.js';
import { contentHash } from '../../lib/hash.js';
import {
  LABEL_REVISION_COMPONENT,
  revisionName,
  sortRevisions,
  type ComponentRevision,
} from '../../apply/revisions.js';

// Naming, listing and finding revisions live in apply/revisions.ts (the dashboard and the CLI read them).

export {
  componentOfRevision,
  LABEL_REVISION_COMPONENT,
  revisionName,
  revisionNumber,
  sortRevisions,
  type ComponentRevision,
} from '../../apply/revisions.js';
/** Label carrying the hash of the snapshotted spec, so "is this spec new?" needs no decoding. */
export const LABEL_REVISION_HASH = 'trellis.dev/revision-hash';

/** The hash of a Component's spec: a revision is created whenever it changes. */
export function specHash(spec: unknown): string {
  return contentHash(spec);
}

/** The ControllerRevision snapshotting `component` as revision `n`, owned (controller) by it. */
export function buildRevision(component: Component, n: number): ComponentRevision {
  const name = component.metadata.name!;
  const hash = specHash(component.spec);
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: revisionName(name, n),
      namespace: component.metadata.namespace,
      labels: { [LABEL_REVISION_COMPONENT]: name, [LABEL_REVISION_HASH]: hash },
      ownerReferences: [
        {
          apiVersion: component.apiVersion,
          kind: component.kind,
          name,
          uid: component.metadata.uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    revision: n,
    data: {
      apiVersion: component.apiVersion,
      kind: component.kind,
      metadata: { name, ...(component.metadata.namespace ? { namespace: component.metadata.namespace } : {}) },
      spec: component.spec,
    },
  };
}

/**
 * The next revision number: one past the highest ever used, counting what the Component's status
 * remembers, so numbers are never reused even after old revisions were pruned.
 */
export function nextRevisionNumber(revisions: { revision: number }[], statusRevision = 0): number {
  return Math.max(statusRevision, ...revisions.map((r) => r.revision), 0) + 1;
}

/**
 * Which revisions to delete to respect `limit`: the oldest first, never the newest and never one
 * in `referenced` (pinned by an AppConfig or still running as a workload). May leave more than
 * `limit` when too many are referenced.
 */
export function revisionsToPrune<T extends { revision: number; metadata: { name?: string } }>(
  revisions: T[],
  limit: number,
  referenced: Set<string>,
): T[] {
  const sorted = sortRevisions(revisions);
  const latest = sorted[sorted.length - 1];
  let excess = sorted.length - limit;
  const out: T[] = [];
  for (const r of sorted) {
    if (excess <= 0) break;
    if (r === latest || referenced.has(r.metadata.name ?? '')) continue;
    out.push(r);
    excess--;
  }
  return out;
}
