import { Applier } from '../../apply/index.js';
import { LABEL_CONTAINERIZED_WORKLOAD } from '../../render/index.js';
import type { KubeObject } from '../../kube/index.js';
import { generationChanged, specOrMetadataChanged, type Manager } from '../../runtime/index.js';
import { FIELD_MANAGER } from '../field-managers.js';
import { API_VERSION, type ContainerizedWorkload } from '../types.js';
import { ContainerizedWorkloadReconciler } from './reconcile.js';

export { ContainerizedWorkloadReconciler } from './reconcile.js';

const CHILD_KINDS = [
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'v1', kind: 'ConfigMap' },
];

/** Registers the ContainerizedWorkload controller (DESIGN.md §4.9). */
export function registerContainerizedWorkloadController(
  mgr: Manager,
  options: { namespace?: string; concurrency?: number } = {},
) {
  const ns = options.namespace ? { namespace: options.namespace } : {};
  const workloads = mgr.informer<ContainerizedWorkload>({
    apiVersion: API_VERSION,
    kind: 'ContainerizedWorkload',
    ...ns,
  });
  // Children carry upstream's selector label (the workload's uid) on themselves too: watch only those.
  const sources = CHILD_KINDS.map((k) => ({ ...k, labelSelector: LABEL_CONTAINERIZED_WORKLOAD, ...ns }));
  const children = new Map(sources.map((s) => [`${s.apiVersion}/${s.kind}`, mgr.informer<KubeObject>(s)]));
  const live = (o: KubeObject) =>
    children.get(`${o.apiVersion}/${o.kind}`)?.get(o.metadata.name!, o.metadata.namespace);
  return mgr.controller<ContainerizedWorkload>({
    name: 'containerizedworkload',
    for: { apiVersion: API_VERSION, kind: 'ContainerizedWorkload', ...ns, predicates: [generationChanged] },
    owns: sources.map((s) => ({ ...s, predicates: [specOrMetadataChanged] })),
    reconciler: new ContainerizedWorkloadReconciler({
      kube: mgr.kube,
      applier: new Applier({ kube: mgr.kube, fieldManager: FIELD_MANAGER, concurrency: 8 }),
      workloads,
      live,
      recorder: mgr.recorder,
    }),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  });
}
