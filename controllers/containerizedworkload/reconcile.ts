import { writeStatus } from '../../status/write.js';
import { entryOf, type Applier, type InventoryEntry, type Owner } from '../../apply/index.js';
import type { Informer, KubeClient, KubeObject } from '../../kube/index.js';
import { messageOf } from '../../lib/errors.js';
import { containerizedWorkloadObjects, LABEL_CONTAINERIZED_WORKLOAD } from '../../render/index.js';
import type { EventRecorder, ReconcileContext, Reconciler, Request } from '../../runtime/index.js';
import { setCondition } from '../../status/conditions.js';
import { STATUS_FIELD_MANAGER } from '../field-managers.js';
import type { ContainerizedWorkload } from '../types.js';

export interface ContainerizedWorkloadReconcilerOptions {
  kube: KubeClient;
  applier: Applier;
  workloads: Informer<ContainerizedWorkload>;
  /** The live children, by kind, for "is it up to date?" without a request. */
  live: (obj: KubeObject) => KubeObject | undefined;
  recorder: EventRecorder;
}

/**
 * The upstream ContainerizedWorkload: its Deployment (+ a Service for its ports, + ConfigMaps for
 * literal config files), from render/'s pure translation, applied with server-side apply and
 * controlled by the workload; what it no longer produces is pruned (inventory in
 * `status.resources`). Replicas are left to a ManualScalerTrait (or Kubernetes' default of 1).
 */
export class ContainerizedWorkloadReconciler implements Reconciler {
  constructor(private readonly o: ContainerizedWorkloadReconcilerOptions) {}

  async reconcile(_ctx: ReconcileContext, req: Request) {
    const cw = this.o.workloads.get(req.name, req.namespace);
    if (!cw || cw.metadata.deletionTimestamp) return {};
    const owner: Owner = {
      apiVersion: cw.apiVersion,
      kind: cw.kind,
      name: cw.metadata.name!,
      namespace: cw.metadata.namespace!,
      uid: cw.metadata.uid!,
    };
    const { deployment, service, configMaps } = containerizedWorkloadObjects(cw);
    // The selector label also on the children themselves, so the controller watches only them.
    const labelled = [...configMaps, deployment, ...(service ? [service] : [])].map((o) => ({
      ...o,
      metadata: { ...o.metadata, labels: { ...o.metadata.labels, [LABEL_CONTAINERIZED_WORKLOAD]: cw.metadata.uid! } },
    }));
    const previous = (cw.status?.resources ?? []).map((r) => ({
      ...r,
      namespace: cw.metadata.namespace!,
    })) as InventoryEntry[];
    try {
      const applied = await this.o.applier.apply(labelled, owner, { live: this.o.live });
      const entries = labelled.map(entryOf);
      await this.o.applier.prune(previous, entries, owner);
      const created = applied.filter((a) => a.action === 'created').map((a) => `${a.ref.kind}/${a.ref.name}`);
      if (created.length) this.o.recorder.event(cw, 'Normal', 'Created', 'Apply', `created ${created.join(', ')}`);
      const refused = applied.flatMap((a) => (a.refusal ? [a.refusal.message] : []));
      if (refused.length) {
        if (!cw.status?.conditions?.some((c) => c.reason === 'OwnershipConflict' && c.message === refused.join('; ')))
          this.o.recorder.event(cw, 'Warning', 'OwnershipConflict', 'Apply', refused.join('; '));
        return this.status(cw, entries, {
          type: 'Synced',
          status: 'False',
          reason: 'OwnershipConflict',
          message: refused.join('; '),
        });
      }
      return this.status(cw, entries, {
        type: 'Synced',
        status: 'True',
        reason: 'Applied',
        message: labelled.map((o) => `${o.kind}/${o.metadata.name}`).join(', '),
      });
    } catch (err) {
      this.o.recorder.event(cw, 'Warning', 'ApplyFailed', 'Apply', messageOf(err));
      await this.status(cw, previous, {
        type: 'Synced',
        status: 'False',
        reason: 'ApplyFailed',
        message: messageOf(err),
      });
      throw err;
    }
  }

  private async status(
    cw: ContainerizedWorkload,
    entries: InventoryEntry[],
    synced: { type: string; status: 'True' | 'False'; reason: string; message: string },
  ) {
    const status = {
      conditions: setCondition(cw.status?.conditions, synced),
      resources: entries.map((e) => ({ apiVersion: e.apiVersion, kind: e.kind, name: e.name })),
    };
    await writeStatus(this.o.kube, cw, status, { fieldManager: STATUS_FIELD_MANAGER });
    return {};
  }
}
