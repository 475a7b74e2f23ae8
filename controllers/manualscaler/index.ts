import { Indexer, specOrMetadataChanged, type Manager } from '../../runtime/index.js';
import { API_VERSION, type ManualScalerTrait, type WorkloadDefinition } from '../types.js';
import { ManualScalerReconciler } from './reconcile.js';

export { ManualScalerReconciler, SCALER_FIELD_MANAGER } from './reconcile.js';

/** Registers the ManualScalerTrait controller: scale changes and hand edits of the scaled objects wake it. */
export function registerManualScalerController(
  mgr: Manager,
  options: { namespace?: string; concurrency?: number } = {},
) {
  const ns = options.namespace ? { namespace: options.namespace } : {};
  const traits = mgr.informer<ManualScalerTrait>({ apiVersion: API_VERSION, kind: 'ManualScalerTrait', ...ns });
  const workloadDefinitions = mgr.informer<WorkloadDefinition>({ apiVersion: API_VERSION, kind: 'WorkloadDefinition' });
  // Traits by the workload they scale, so a change to that workload or its children wakes them.
  const byWorkload = new Indexer(traits, (t) =>
    t.spec.workloadRef ? [`${t.metadata.namespace}/${t.spec.workloadRef.kind}/${t.spec.workloadRef.name}`] : [],
  );
  const wake = (obj: {
    metadata: {
      namespace?: string;
      name?: string;
      ownerReferences?: { kind: string; name: string; controller?: boolean }[];
    };
    kind: string;
  }) => {
    const keys = [
      `${obj.metadata.namespace}/${obj.kind}/${obj.metadata.name}`,
      ...(obj.metadata.ownerReferences ?? [])
        .filter((r) => r.controller)
        .map((r) => `${obj.metadata.namespace}/${r.kind}/${r.name}`),
    ];
    return keys
      .flatMap((k) => byWorkload.get(k))
      .map((t) => ({ namespace: t.metadata.namespace!, name: t.metadata.name! }));
  };
  return mgr.controller<ManualScalerTrait>({
    name: 'manualscalertrait',
    for: { apiVersion: API_VERSION, kind: 'ManualScalerTrait', ...ns },
    watches: [
      { apiVersion: 'apps/v1', kind: 'Deployment', ...ns, map: wake, predicates: [specOrMetadataChanged] },
      { apiVersion: 'apps/v1', kind: 'StatefulSet', ...ns, map: wake, predicates: [specOrMetadataChanged] },
    ],
    reconciler: new ManualScalerReconciler({ kube: mgr.kube, traits, workloadDefinitions, recorder: mgr.recorder }),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  });
}
