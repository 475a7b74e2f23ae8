import type { InventoryEntry } from '../../apply/index.js';
import { childrenFingerprint, observedEntries } from '../../controllers/appconfig/fingerprint.js';
import type { ApplicationConfiguration } from '../../controllers/types.js';
import type { KubeObject } from '../../kube/index.js';

/**
 * Whether kube-controller-manager is done with a Deployment: it has observed its generation and
 * reports the rollout complete (`Progressing` for `NewReplicaSetAvailable`). Until then it writes
 * the Deployment's status again — each write a child change its AppConfig renders for, and one
 * written while the controller is stopped is rendered by the restarted one.
 */
export function rolledOut(d: KubeObject): boolean {
  const status = d.status as
    { observedGeneration?: number; conditions?: { type: string; reason?: string }[] } | undefined;
  return (
    status?.observedGeneration === d.metadata.generation &&
    !!status?.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'NewReplicaSetAvailable')
  );
}

/**
 * The AppConfigs whose recorded fingerprint (ADR 0008) does not name their children's current
 * versions: a reconcile of each would render (`reason="children"`), not skip — because something it
 * applied was written after its last status write (kube-controller-manager's status updates, most
 * often), or it has no fingerprint. `live` finds an inventory entry's object in the bench's caches.
 * The bench's workloads (Deployments) have no child kinds the controller reads, so the inventory is
 * all the controller's check covers.
 */
export function staleApps(
  apps: ApplicationConfiguration[],
  live: (e: InventoryEntry) => KubeObject | undefined,
): string[] {
  return apps
    .filter((a) => {
      const recorded = a.status?.fingerprint?.children;
      const inventory = (a.status?.inventory ?? []) as InventoryEntry[];
      return !recorded || childrenFingerprint(observedEntries(inventory, live)) !== recorded;
    })
    .map((a) => a.metadata.name ?? '');
}
