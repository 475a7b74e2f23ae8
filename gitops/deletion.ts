import type { GitSync } from '../apis/generated/gitops.trellis.dev-v1alpha1.js';
import { Applier, type InventoryEntry, type Owner } from '../apply/index.js';
import type { KubeClient } from '../kube/client.js';
import { TrellisError, messageOf } from '../lib/errors.js';
import { releaseCommand } from './finalizer.js';
import { serviceAccountExists, type SyncIdentity } from './identity.js';
import { gitSyncSuspended } from './status.js';

/** What deleting a GitSync did to what it applied, and whether its finalizer may go. */
export interface CleanupOutcome {
  /** `true`: remove the finalizer; `false`: keep it and retry. */
  done: boolean;
  type: 'Normal' | 'Warning';
  /** Event reason: `Pruned`, `Orphaned`, `LeftInPlace` or `DeletionBlocked`. */
  reason: 'Pruned' | 'Orphaned' | 'LeftInPlace' | 'DeletionBlocked';
  message: string;
}

export interface CleanupOptions {
  /** The controller's own client (reads the ServiceAccount). */
  kube: KubeClient;
  /** Who the GitSync acts as: the clean-up runs with the same rights as its syncs. */
  identity: SyncIdentity;
  owner: Owner;
  fieldManager: string;
  /** The GitSync's namespace is being deleted: the namespace controller removes what is in it. */
  namespaceTerminating: boolean;
}

const count = (n: number, what: string) => `${n} object(s) ${what}`;

/**
 * The clean-up when a GitSync is deleted (Flux's garbage collection on deletion):
 * - suspended: nothing is touched — the objects keep their owner mark, so a GitSync of the same
 *   name adopts them (suspend, then delete: how to hand over or uninstall without side effects);
 * - `prune: true` (the default): every inventory object that still carries its owner mark is
 *   deleted ({@link Applier.prune}: mark checked, uid precondition);
 * - `prune: false`: the objects stay, and lose the owner mark ({@link Applier.orphan}), so nothing
 *   later takes them for managed ones.
 * It acts as the GitSync's identity (never with more rights than its syncs had). It never blocks a
 * namespace deletion: in a terminating namespace only objects outside it are handled, and a
 * failure is reported but releases the finalizer; so does a failure after the impersonated
 * ServiceAccount itself was deleted (Flux does the same). Any other failure keeps the finalizer
 * (`done: false`) and says how to release it by hand.
 */
export async function cleanUpAfterGitSync(gs: GitSync, options: CleanupOptions): Promise<CleanupOutcome> {
  const inventory = (gs.status?.inventory ?? []) as InventoryEntry[];
  const ns = gs.metadata.namespace!;
  if (gitSyncSuspended(gs)) {
    return {
      done: true,
      type: 'Normal',
      reason: 'LeftInPlace',
      message: `suspended: left ${count(inventory.length, 'in place')}, still marked as this GitSync's (a GitSync of the same name adopts them)`,
    };
  }
  // In a namespace being deleted, what is inside it goes with it; only what is outside needs us.
  const entries = options.namespaceTerminating ? inventory.filter((e) => e.namespace !== ns) : inventory;
  const applier = new Applier({ kube: options.identity.kube, fieldManager: options.fieldManager, concurrency: 8 });
  const prune = gs.spec.prune ?? true;
  try {
    if (prune) {
      const results = await applier.prune(entries, [], options.owner);
      const n = (a: string) => results.filter((r) => r.action === a).length;
      return {
        done: true,
        type: 'Normal',
        reason: 'Pruned',
        message: `deleted ${count(n('deleted'), 'it applied')}${n('gone') ? `; ${n('gone')} already gone` : ''}${n('skipped') ? `; ${n('skipped')} no longer carried its owner mark and were left in place` : ''}`,
      };
    }
    const results = await applier.orphan(entries, options.owner);
    const n = (a: string) => results.filter((r) => r.action === a).length;
    return {
      done: true,
      type: 'Normal',
      reason: 'Orphaned',
      message: `prune is off: left ${count(n('orphaned'), 'in place')} and removed its owner mark from them${n('gone') ? `; ${n('gone')} already gone` : ''}${n('skipped') ? `; ${n('skipped')} were no longer its own` : ''}`,
    };
  } catch (err) {
    const what = `${prune ? 'deleting' : 'letting go of'} what it applied as ${options.identity.description} failed: ${messageOf(err)}`;
    if (options.namespaceTerminating) {
      return {
        done: true,
        type: 'Warning',
        reason: 'LeftInPlace',
        message: `the namespace is being deleted; ${what} — ${count(entries.length, 'outside the namespace')} may be left behind`,
      };
    }
    const sa = options.identity.serviceAccount;
    if (sa && !(await serviceAccountExists(options.kube, sa))) {
      return {
        done: true,
        type: 'Warning',
        reason: 'LeftInPlace',
        message: `${what}; the ServiceAccount no longer exists, so nothing can act for this GitSync: ${count(entries.length, 'may be left in place')}`,
      };
    }
    const error = new TrellisError(
      'TRL_GITOPS_DELETE',
      `${what}. The GitSync stays until this succeeds (retried with backoff); to delete it and leave everything in place, remove its finalizer: ${releaseCommand(gs)}`,
      { object: `GitSync/${ns}/${gs.metadata.name}`, cause: err },
    );
    return { done: false, type: 'Warning', reason: 'DeletionBlocked', message: error.message };
  }
}
