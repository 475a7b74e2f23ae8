/**
 * Component revisions as stored (`apps/v1` ControllerRevisions named `<component>-v<N>`): naming,
 * listing and finding them. The Component controller writes them; `trellis revisions`/`rollback`
 * and the dashboard read them.
 */
import type { Component } from '../apis/generated/core.oam.dev-v1alpha2.js';
import type { KubeClient } from '../kube/index.js';
import type { KubeObject } from '../kube/types.js';

/** Label on every ControllerRevision of a Component (the upstream OAM runtime's label). */
export const LABEL_REVISION_COMPONENT = 'controller.oam.dev/component';

/** An `apps/v1` ControllerRevision holding a Component snapshot. */
export interface ComponentRevision extends KubeObject {
  revision: number;
  data: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec: Component['spec'] };
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

/** Revisions sorted by number, newest last. */
export function sortRevisions<T extends { revision: number }>(revisions: T[]): T[] {
  return [...revisions].sort((a, b) => a.revision - b.revision);
}

/** Every stored revision of a Component, oldest first. */
export async function listRevisions(
  kube: KubeClient,
  namespace: string,
  component: string,
): Promise<ComponentRevision[]> {
  const { items } = await kube.list<ComponentRevision>('apps/v1', 'ControllerRevision', {
    namespace,
    labelSelector: `${LABEL_REVISION_COMPONENT}=${component}`,
  });
  return sortRevisions(items);
}

/** The revision a user means by `web-v2`, `v2` or `2`. */
export function findRevision(
  revisions: ComponentRevision[],
  component: string,
  wanted: string,
): ComponentRevision | undefined {
  const n = /^v?(\d+)$/.test(wanted) ? Number(wanted.replace(/^v/, '')) : revisionNumber(wanted, component);
  return n === undefined ? undefined : revisions.find((r) => r.revision === n);
}

/** The newest revision older than `current` (by number). */
export function previousRevision(revisions: ComponentRevision[], current: number): ComponentRevision | undefined {
  return sortRevisions(revisions.filter((r) => r.revision < current)).at(-1);
}
