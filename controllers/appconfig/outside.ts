import type { Applier, InventoryEntry, Owner } from '../../apply/index.js';
import { setFinalizer, type KubeClient } from '../../kube/index.js';
import type { ApplicationConfiguration } from '../types.js';

/**
 * On an AppConfig that applied objects owner references cannot tie to it — in another namespace (a
 * definition allowed to write there, `trellis.dev/allowed-namespaces`) or cluster-scoped — so
 * deleting it deletes them too: the garbage collector takes only what lives in its namespace.
 */
export const FINALIZER_OUTSIDE = 'trellis.dev/outside-namespace';

/** Inventory entries outside the AppConfig's namespace (cluster-scoped ones have none). */
export function outsideEntries(app: ApplicationConfiguration, inventory: InventoryEntry[]): InventoryEntry[] {
  return inventory.filter((e) => e.namespace !== app.metadata.namespace);
}

/**
 * Adds or removes {@link FINALIZER_OUTSIDE} (kube/'s setFinalizer: a guarded JSON patch, never an apply, which would
 * re-create an AppConfig already gone).
 */
export function setOutsideFinalizer(kube: KubeClient, app: ApplicationConfiguration, present: boolean): Promise<void> {
  return setFinalizer(kube, app, FINALIZER_OUTSIDE, present);
}

/**
 * A deleted AppConfig's objects outside its namespace: deleted when they still carry its mark (what
 * changed hands stays), then the finalizer goes. Throws while a deletion fails (retried).
 */
export async function cleanUpOutside(
  kube: KubeClient,
  applier: Applier,
  app: ApplicationConfiguration,
  owner: Owner,
): Promise<void> {
  if (!app.metadata.finalizers?.includes(FINALIZER_OUTSIDE)) return;
  await applier.prune(outsideEntries(app, (app.status?.inventory ?? []) as InventoryEntry[]), [], owner);
  await setOutsideFinalizer(kube, app, false);
}
