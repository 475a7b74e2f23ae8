import type { KubeObject } from '../../kube/types.js';
import type { Component } from '../types.js';
import { contentHash } from '../../lib/hash.js';

/** Label on every ControllerRevision of a Component (the upstream OAM runtime's label). */
export const LABEL_REVISION_COMPONENT = 'controller.oam.dev/component';
/** Label carrying the hash of the snapshotted spec, so "is this spec new?" needs no decoding. */
export const LABEL_REVISION_HASH = 'trellis.dev/revision-hash';

/** An `apps/v1` ControllerRevision holding a Component snapshot. */
export interface ComponentRevision extends KubeObject {
  revision: number;
  data: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec: Component['spec'] };
}

/** The hash of a Component's spec: a revision is created whenever it changes. */
export function specHash(spec: unknown): string {
  return contentHash(spec);
}

/** `web-v3` */
export function revisionName(component: string, n: number): string {
  return `${component}-v${n}`;
}

/** The number in `<component>-v<N>`, or undefined when `name` is not a revision of `component`. */
export function revisionNumber(name: string, component?: string): number | undefined {
  const m = /^(.+)-v(\d+)$/.exec(name);
  if (!m || (component !== undefined && m[1] !== component)) return undefined;
  return Number(m[2]);
}

/** The component a revision name belongs to: `web-v3` → `web`. */
export function componentOfRevision(name: string): string | undefined {
  return /^(.+)-v\d+$/.exec(name)?.[1];
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

/** Revisions sorted by number, newest last. */
export function sortRevisions<T extends { revision: number }>(revisions: T[]): T[] {
  return [...revisions].sort((a, b) => a.revision - b.revision);
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
