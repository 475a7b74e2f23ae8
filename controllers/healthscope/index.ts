import { generationChanged, type Manager } from '../../runtime/index.js';
import { API_VERSION, type HealthScope, type WorkloadDefinition } from '../types.js';
import { HealthScopeReconciler } from './reconcile.js';

export { HealthScopeReconciler } from './reconcile.js';

/** Registers the HealthScope controller on a manager. */
export function registerHealthScopeController(
  mgr: Manager,
  options: { namespace?: string; concurrency?: number; defaultProbeIntervalSeconds?: number } = {},
) {
  const ns = options.namespace ? { namespace: options.namespace } : {};
  const scopes = mgr.informer<HealthScope>({ apiVersion: API_VERSION, kind: 'HealthScope', ...ns });
  const workloadDefinitions = mgr.informer<WorkloadDefinition>({ apiVersion: API_VERSION, kind: 'WorkloadDefinition' });
  return mgr.controller<HealthScope>({
    name: 'healthscope',
    for: { apiVersion: API_VERSION, kind: 'HealthScope', ...ns, predicates: [generationChanged] },
    reconciler: new HealthScopeReconciler({
      kube: mgr.kube,
      scopes,
      workloadDefinitions,
      ...(options.defaultProbeIntervalSeconds
        ? { defaultProbeIntervalSeconds: options.defaultProbeIntervalSeconds }
        : {}),
    }),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  });
}
