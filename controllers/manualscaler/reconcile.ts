import { isScalableKind } from '../../definitions/index.js';
import { writeStatus } from '../../status/write.js';
import type { Informer, KubeClient, KubeObject } from '../../kube/index.js';
import type { EventRecorder, ReconcileContext, Reconciler, Request } from '../../runtime/index.js';
import { setCondition } from '../../status/conditions.js';
import { apiHealthReader, childKindsOf } from '../child-kinds.js';
import { STATUS_FIELD_MANAGER } from '../field-managers.js';
import type { ManualScalerTrait, WorkloadDefinition } from '../types.js';

/** Field manager of the replica counts the ManualScalerTrait sets. */
export const SCALER_FIELD_MANAGER = 'trellis-manualscaler';

/** Objects with a `spec.replicas` the scaler may set. */
const scalable = (o: KubeObject) =>
  isScalableKind(o.apiVersion, o.kind) || typeof (o.spec as { replicas?: unknown } | undefined)?.replicas === 'number';

export interface ManualScalerReconcilerOptions {
  kube: KubeClient;
  traits: Informer<ManualScalerTrait>;
  workloadDefinitions: Informer<WorkloadDefinition>;
  recorder: EventRecorder;
}

/**
 * The upstream ManualScalerTrait: sets `spec.replicas` to `spec.replicaCount` on what its workload
 * (`spec.workloadRef`) produced — the Deployment of a ContainerizedWorkload, or the workload itself
 * when it has replicas — with server-side apply under its own field manager, so a hand edit is
 * put back and nothing else on the target changes.
 */
export class ManualScalerReconciler implements Reconciler {
  constructor(private readonly o: ManualScalerReconcilerOptions) {}

  async reconcile(_ctx: ReconcileContext, req: Request) {
    const trait = this.o.traits.get(req.name, req.namespace);
    if (!trait || trait.metadata.deletionTimestamp) return {};
    const ref = trait.spec.workloadRef;
    const namespace = trait.metadata.namespace!;
    if (!ref) return this.status(trait, 'False', 'WaitingForWorkloadRef', 'spec.workloadRef is not set yet');
    const workload = await this.o.kube.getOrNull<KubeObject>({ ...ref, namespace });
    if (!workload)
      return {
        ...(await this.status(trait, 'False', 'WorkloadNotFound', `${ref.kind}/${ref.name} does not exist (yet)`)),
        requeueAfter: 10_000,
      };
    const kinds = await childKindsOf(this.o.kube, this.o.workloadDefinitions, ref.apiVersion, ref.kind);
    const reader = apiHealthReader(this.o.kube);
    const children = (
      await Promise.all(kinds.map((k) => reader.children(k, namespace, workload.metadata.uid!)))
    ).flat();
    const targets = (kinds.length ? children : [workload]).filter(scalable);
    if (!targets.length)
      return {
        ...(await this.status(
          trait,
          'False',
          'NothingToScale',
          `${ref.kind}/${ref.name} has produced nothing with replicas yet`,
        )),
        requeueAfter: 10_000,
      };
    const replicas = trait.spec.replicaCount;
    for (const target of targets) {
      if ((target.spec as { replicas?: number }).replicas === replicas && ownsReplicas(target)) continue;
      await this.o.kube.apply(
        {
          apiVersion: target.apiVersion,
          kind: target.kind,
          metadata: { name: target.metadata.name, namespace },
          spec: { replicas },
        },
        { fieldManager: SCALER_FIELD_MANAGER },
      );
      this.o.recorder.event(
        trait,
        'Normal',
        'Scaled',
        'Scale',
        `set ${target.kind}/${target.metadata.name} to ${replicas} replicas`,
      );
    }
    return this.status(
      trait,
      'True',
      'Scaled',
      `${targets.map((t) => `${t.kind}/${t.metadata.name}`).join(', ')} at ${replicas} replicas`,
    );
  }

  private async status(trait: ManualScalerTrait, status: 'True' | 'False', reason: string, message: string) {
    const conditions = setCondition(trait.status?.conditions, { type: 'Synced', status, reason, message });
    await writeStatus(this.o.kube, trait, { conditions }, { fieldManager: STATUS_FIELD_MANAGER });
    return {};
  }
}

/** True when the scaler's field manager owns `spec.replicas` (a hand edit moves ownership away). */
function ownsReplicas(obj: KubeObject): boolean {
  return (
    (obj.metadata.managedFields ?? []) as { manager?: string; fieldsV1?: { 'f:spec'?: Record<string, unknown> } }[]
  ).some((m) => m.manager === SCALER_FIELD_MANAGER && m.fieldsV1?.['f:spec']?.['f:replicas'] !== undefined);
}
