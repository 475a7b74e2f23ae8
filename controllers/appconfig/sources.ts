import type { Informer } from '../../kube/index.js';
import type { ComponentSource } from '../../render/index.js';
import { LABEL_REVISION_HASH, specHash, type ComponentRevision } from '../component/revisions.js';
import type { Component } from '../types.js';

/**
 * Thrown while a Component's spec changed and its revision is not recorded yet (and the source may
 * not make it): rendering now would label the workload with the previous revision. The Component's
 * status update wakes the AppConfig.
 */
export class RevisionPendingError extends Error {
  constructor(readonly component: string) {
    super(`component "${component}" changed; waiting for its new revision`);
    this.name = 'RevisionPendingError';
  }
}

/**
 * Components and their revisions from the informer caches of one namespace: `component(name)` is
 * the current spec with the revision recording it; `revision(name)` the snapshot a pinned entry
 * names. A Component whose status does not name its current spec's revision yet (the Component
 * controller has not had its turn) gets it from `ensure` — which finds or makes the very revision
 * the Component controller would (controllers/component/ensure.ts) — or, without `ensure`, throws
 * {@link RevisionPendingError}.
 */
export function cachedComponents(
  namespace: string,
  components: Informer<Component>,
  revisions: Informer<ComponentRevision>,
  ensure?: (component: Component) => Promise<ComponentRevision>,
): ComponentSource {
  return {
    async component(name) {
      const component = components.get(name, namespace);
      if (!component) return undefined;
      const latest = component.status?.latestRevision;
      if (latest?.name && latest.revisionHash === specHash(component.spec))
        return { component, revisionName: latest.name };
      if (!ensure) throw new RevisionPendingError(name);
      return { component, revisionName: (await ensure(component)).metadata.name! };
    },
    async revision(revisionName) {
      const rev = revisions.get(revisionName, namespace);
      if (!rev?.data?.spec) return undefined;
      return {
        component: {
          ...rev.data,
          apiVersion: 'core.oam.dev/v1alpha2',
          kind: 'Component',
          metadata: {
            ...rev.data.metadata,
            labels: { [LABEL_REVISION_HASH]: rev.metadata.labels?.[LABEL_REVISION_HASH] ?? '' },
          },
        } as Component,
        revisionName,
      };
    },
  };
}
