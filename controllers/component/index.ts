import { API_VERSION, type ApplicationConfiguration, type Component } from '../types.js';
import { generationChanged, Indexer, predicate, type Manager } from '../../runtime/index.js';
import { ComponentReconciler, referencedRevisions } from './reconcile.js';
import { componentOfRevision, LABEL_REVISION_COMPONENT, type ComponentRevision } from './revisions.js';

export { ComponentReconciler, referencedRevisions } from './reconcile.js';
export * from './revisions.js';
export { ensureRevision, type EnsureRevisionOptions } from './ensure.js';

export interface ComponentControllerOptions {
  /** Watch one namespace. @default all */
  namespace?: string;
  /** @default 10 */
  revisionHistoryLimit?: number;
  concurrency?: number;
}

/** Registers the Component revision controller on a manager. */
export function registerComponentController(mgr: Manager, options: ComponentControllerOptions = {}) {
  const ns = options.namespace ? { namespace: options.namespace } : {};
  const components = mgr.informer<Component>({ apiVersion: API_VERSION, kind: 'Component', ...ns });
  const revisionInformer = mgr.informer<ComponentRevision>({
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    labelSelector: LABEL_REVISION_COMPONENT,
    ...ns,
  });
  const revisions = new Indexer(revisionInformer, (r) => [
    `${r.metadata.namespace}/${r.metadata.labels?.[LABEL_REVISION_COMPONENT]}`,
  ]);
  const apps = mgr.informer<ApplicationConfiguration>({
    apiVersion: API_VERSION,
    kind: 'ApplicationConfiguration',
    ...ns,
  });
  const revisionUsers = new Indexer(apps, (a) =>
    referencedRevisions(a).map((name) => `${a.metadata.namespace}/${name}`),
  );
  const usedComponents = (a: ApplicationConfiguration) =>
    (a.spec?.components ?? []).flatMap((c) => {
      const name = c.componentName ?? (c.revisionName ? componentOfRevision(c.revisionName) : undefined);
      return name ? [{ namespace: a.metadata.namespace!, name }] : [];
    });
  const uses = (a: ApplicationConfiguration) =>
    JSON.stringify([usedComponents(a).map((c) => c.name), referencedRevisions(a)]);
  return mgr.controller<Component>({
    name: 'component',
    for: { apiVersion: API_VERSION, kind: 'Component', ...ns, predicates: [generationChanged] },
    owns: [{ apiVersion: 'apps/v1', kind: 'ControllerRevision', labelSelector: LABEL_REVISION_COMPONENT, ...ns }],
    // An AppConfig that stops referencing a revision may let the history limit prune it.
    watches: [
      {
        apiVersion: API_VERSION,
        kind: 'ApplicationConfiguration',
        ...ns,
        // Only when what it uses changes: every other status write of every AppConfig woke its Components for nothing.
        predicates: [
          predicate<ApplicationConfiguration>('usesChanged', ({ object, old }) =>
            old && uses(object) === uses(old) ? 'components and revisions used unchanged' : true,
          ) as never,
        ],
        map: (a, e) => [
          ...usedComponents(a as ApplicationConfiguration),
          ...(e.old ? usedComponents(e.old as ApplicationConfiguration) : []),
        ],
      },
    ],
    reconciler: new ComponentReconciler({
      kube: mgr.kube,
      components,
      revisions,
      revisionUsers,
      recorder: mgr.recorder,
      ...(options.revisionHistoryLimit !== undefined ? { revisionHistoryLimit: options.revisionHistoryLimit } : {}),
    }),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  });
}
export { findRevision, listRevisions, previousRevision } from '../../apply/revisions.js';
