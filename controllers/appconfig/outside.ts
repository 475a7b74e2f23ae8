import type { Applier, InventoryEntry, Owner } from '../../apply/index.js';
import type { KubeClient } from '../../kube/index.js';
import type { ApplicationConfiguration } from '../types.js';

/**
 * On an AppConfig that applied objects owner references cannot tie to it — in another namespace (a
 * definition allowed to write there, `trellis.dev/allowed-namespaces`) or cluster-scoped — so
 * deleting it deletes them too: the garbage collector takes only what lives in its namespace.
 */
export const FINALIZER_OUTSIDE = 'trellis.dev/outside-namespace';
const FINALIZER_MANAGER = 'trellis-finalizer-outside';

/** Inventory entries outside the AppConfig's namespace (cluster-scoped ones have none). */
export function outsideEntries(app: ApplicationConfiguration, inventory: InventoryEntry[]): InventoryEntry[] {
  return inventory.filter((e) => e.namespace !== app.metadata.namespace);
}

/** Adds or removes {@link FINALIZER_OUTSIDE} (server-side apply of just that entry, its own field manager). */
export async function setOutsideFinalizer(
  kube: KubeClient,
  app: ApplicationConfiguration,
  present: boolean,
): Promise<void> {
  if ((app.metadata.finalizers?.includes(FINALIZER_OUTSIDE) ?? false) === present) return;
  await kube.apply(
    {
      apiVersion: app.apiVersion,
      kind: app.kind,
      metadata: {
        name: app.metadata.name,
        namespace: app.metadata.namespace,
        finalizers: present ? [FINALIZER_OUTSIDE] : [],
      },
    },
    { fieldManager: FINALIZER_MANAGER, force: true },
  );
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
