import { writeStatus } from '../../status/write.js';
import { LABEL_COMPONENT } from '../../apis/labels.js';
import type { Informer, KubeClient, KubeObject } from '../../kube/index.js';
import type { ReconcileContext, Reconciler, Request } from '../../runtime/index.js';
import { setCondition } from '../../status/conditions.js';
import { workloadHealth } from '../../status/workload-health.js';
import type { HealthStatus } from '../../status/health.js';
import { apiHealthReader, childKindsOf } from '../child-kinds.js';
import { STATUS_FIELD_MANAGER } from '../field-managers.js';
import type { HealthScope, WorkloadDefinition } from '../types.js';

export interface HealthScopeReconcilerOptions {
  kube: KubeClient;
  scopes: Informer<HealthScope>;
  workloadDefinitions: Informer<WorkloadDefinition>;
  /** Seconds between checks when the scope does not set `probe-interval`. @default 10 */
  defaultProbeIntervalSeconds?: number;
}

type Scope = HealthScope & {
  spec: { 'probe-interval'?: number; workloadRefs?: { apiVersion: string; kind: string; name: string }[] };
};

/**
 * Aggregates the health of the workloads a HealthScope references (`spec.workloadRefs`, filled in
 * by the ApplicationConfigurations that put components in the scope) into
 * `status.scopeHealthCondition`, one `healthConditions` entry per workload, and a `Ready`
 * condition; checks again every `probe-interval` seconds.
 */
export class HealthScopeReconciler implements Reconciler {
  constructor(private readonly o: HealthScopeReconcilerOptions) {}

  async reconcile(_ctx: ReconcileContext, req: Request) {
    const scope = this.o.scopes.get(req.name, req.namespace) as Scope | undefined;
    if (!scope || scope.metadata.deletionTimestamp) return {};
    const namespace = scope.metadata.namespace!;
    const reader = apiHealthReader(this.o.kube);
    const conditions: {
      componentName?: string;
      targetWorkload: { apiVersion: string; kind: string; name: string };
      healthStatus: HealthStatus;
      diagnosis: string;
    }[] = [];
    for (const ref of scope.spec.workloadRefs ?? []) {
      const workload = await this.o.kube.getOrNull<KubeObject>({ ...ref, namespace }).catch(() => undefined);
      const health = await workloadHealth(
        workload,
        await childKindsOf(this.o.kube, this.o.workloadDefinitions, ref.apiVersion, ref.kind),
        reader,
      );
      conditions.push({
        ...(workload?.metadata.labels?.[LABEL_COMPONENT]
          ? { componentName: workload.metadata.labels[LABEL_COMPONENT] }
          : {}),
        targetWorkload: { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name },
        healthStatus: health.status,
        diagnosis: health.message,
      });
    }
    const count = (s: HealthStatus) => conditions.filter((c) => c.healthStatus === s).length;
    const [healthy, unhealthy, unknown] = [count('HEALTHY'), count('UNHEALTHY'), count('UNKNOWN')];
    const healthStatus: HealthStatus = unhealthy ? 'UNHEALTHY' : unknown ? 'UNKNOWN' : 'HEALTHY';
    const ready =
      healthStatus === 'HEALTHY'
        ? {
            type: 'Ready',
            status: 'True' as const,
            reason: 'Healthy',
            message: `${healthy} of ${conditions.length} workloads healthy`,
          }
        : {
            type: 'Ready',
            status: 'False' as const,
            reason: healthStatus === 'UNHEALTHY' ? 'Unhealthy' : 'Unknown',
            message: conditions
              .filter((c) => c.healthStatus !== 'HEALTHY')
              .map((c) => `${c.targetWorkload.kind}/${c.targetWorkload.name}: ${c.diagnosis}`)
              .join('; '),
          };
    const status = {
      scopeHealthCondition: {
        healthStatus,
        total: conditions.length,
        healthyWorkloads: healthy,
        unhealthyWorkloads: unhealthy,
        unknownWorkloads: unknown,
      },
      healthConditions: conditions,
      conditions: setCondition(scope.status?.conditions, ready),
    };
    await writeStatus(this.o.kube, scope, status, { fieldManager: STATUS_FIELD_MANAGER });
    return { requeueAfter: (scope.spec['probe-interval'] ?? this.o.defaultProbeIntervalSeconds ?? 10) * 1000 };
  }
}
