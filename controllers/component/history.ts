import type { KubeClient } from '../../kube/index.js';
import { LABEL_REVISION_COMPONENT, revisionNumber, sortRevisions, type ComponentRevision } from './revisions.js';

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
