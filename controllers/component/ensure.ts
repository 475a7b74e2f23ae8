import { isAlreadyExists, KubeApiError, type KubeClient } from '../../kube/index.js';
import type { EventRecorder } from '../../runtime/index.js';
import type { Component } from '../types.js';
import {
  buildRevision,
  LABEL_REVISION_COMPONENT,
  LABEL_REVISION_HASH,
  nextRevisionNumber,
  sortRevisions,
  specHash,
  type ComponentRevision,
} from './revisions.js';

/** Tries at writing a revision when another writer's apply of the same name wins the race. */
const RACE_ATTEMPTS = 3;

export interface EnsureRevisionOptions {
  kube: KubeClient;
  /** The Component's revisions in the informer cache (may lag behind the API server). */
  cached: ComponentRevision[];
  /** Told (an Event on the Component) when a revision is created. @default none */
  recorder?: EventRecorder;
}

/**
 * The revision holding `component`'s current spec among `cached` (its newest, when it holds that
 * spec), or undefined — without asking the API server or writing anything.
 */
export function cachedRevision(component: Component, cached: ComponentRevision[]): ComponentRevision | undefined {
  const newest = sortRevisions(cached).at(-1);
  return newest?.metadata.labels?.[LABEL_REVISION_HASH] === specHash(component.spec) ? newest : undefined;
}

/**
 * The revision holding `component`'s current spec, created (`<component>-v<N>`, N one past the
 * highest ever used) when the spec changed since the newest one. Whoever calls it — the Component
 * controller, or an AppConfig that needs the revision now rather than after the Component
 * controller's turn (ADR 0016) — makes the same object: before writing it asks the API server, not
 * the cache, which may lag behind a write either made. The write is a create, so of two callers
 * writing `vN` at once exactly one makes it — and only that one says so (`created`, the
 * `RevisionCreated` Event): the other is refused (AlreadyExists) and looks again, finding the
 * revision of its spec made; should the winner's `vN` hold another spec (one caller read the
 * Component before a change), the loser fails with a Conflict and its reconcile runs again on a
 * fresher copy, rather than recording a revision of a spec already gone.
 *
 * @example
 *   const { revision, created } = await ensureRevision(web, { kube, cached: byComponent.get('shop/web') })
 */
export async function ensureRevision(
  component: Component,
  o: EnsureRevisionOptions,
): Promise<{ revision: ComponentRevision; created: boolean }> {
  const hash = specHash(component.spec);
  const cached = cachedRevision(component, o.cached);
  if (cached) return { revision: cached, created: false };
  // Both writers may create `vN` at the same moment: the loser of the create race (409) looks again.
  let lost: string | undefined;
  for (let attempt = 1; ; attempt++) {
    const live = (
      await o.kube.list<ComponentRevision>('apps/v1', 'ControllerRevision', {
        namespace: component.metadata.namespace!,
        labelSelector: `${LABEL_REVISION_COMPONENT}=${component.metadata.name}`,
      })
    ).items;
    const newest = sortRevisions(live).at(-1);
    if (newest && newest.metadata.labels?.[LABEL_REVISION_HASH] === hash) return { revision: newest, created: false };
    if (lost && newest?.metadata.name === lost)
      throw new KubeApiError(
        409,
        'Conflict',
        `revision ${lost} of component "${component.metadata.name}" was just made for another spec: ` +
          'the component changed while its revision was being written',
      );
    const n = nextRevisionNumber(live, component.status?.latestRevision?.revision);
    const desired = buildRevision(component, n);
    const revision = await o.kube.create<ComponentRevision>(desired).catch((err: unknown) => {
      if (attempt < RACE_ATTEMPTS && isAlreadyExists(err)) return undefined;
      throw err;
    });
    if (!revision) {
      lost = desired.metadata.name;
      continue;
    }
    o.recorder?.event(
      component,
      'Normal',
      'RevisionCreated',
      'Revise',
      `created revision ${revision.metadata.name} for the changed spec`,
    );
    return { revision, created: true };
  }
}
