import {
  APPLY_VERBS,
  Applier,
  PRUNE_VERBS,
  entryOf,
  unionEntries,
  type AppliedObject,
  type InventoryEntry,
  type Owner,
  type PlannedObject,
  type PrunedObject,
  type Refusal,
} from '../apply/index.js';
import type { KubeClient } from '../kube/client.js';
import { isForbidden } from '../kube/errors.js';
import type { KubeObject } from '../kube/types.js';
import { TrellisError, isTrellisError, messageOf } from '../lib/errors.js';
import { parseManifests } from './manifests.js';
import { placeObjects, scopesFromCrds, type NamespacePolicy } from './placement.js';
import type { SourceFile } from './source-files.js';

export interface SyncerOptions {
  /** The client everything is dry-run, applied and pruned with (an impersonating one to act as a ServiceAccount). */
  kube: KubeClient;
  /** Who `kube` acts as, for messages, e.g. `ServiceAccount team-a/deployer`. @default 'the identity applying' */
  actor?: string;
  /** Field manager for what the sync applies. @default 'trellis-gitops' */
  fieldManager?: string;
  /** Objects of one kind-rank applied at once. @default 8 */
  concurrency?: number;
}

/** What a sync did. `inventory` is what the owner may prune later. */
export interface SyncOutcome {
  /** One result per object (`refused` ones are someone else's and were left alone). */
  applied: AppliedObject[];
  /** The refused objects' refusals: who holds each, and what to do. */
  refused: Refusal[];
  pruned: PrunedObject[];
  inventory: InventoryEntry[];
}

/** A failed sync: the error, and the inventory to keep (previous ∪ whatever may have been applied). */
export class SyncFailure extends Error {
  constructor(
    readonly error: TrellisError,
    readonly inventory: InventoryEntry[],
    readonly stage: 'InvalidManifests' | 'Rejected' | 'Forbidden' | 'ApplyFailed' | 'PruneFailed',
  ) {
    super(error.message, { cause: error });
    this.name = 'SyncFailure';
  }
}

/**
 * The part of GitOps that talks to the cluster, shared by the GitSync controller and `trellis
 * sync`: turns files into placed objects, validates them with server-side dry runs, applies them
 * through apply/ (CRDs and definitions first) and prunes what left the repository. Every failure
 * before the apply changes nothing; a failed apply prunes nothing.
 */
export class Syncer {
  readonly applier: Applier;
  private readonly kube: KubeClient;
  private readonly actor: string;

  constructor(options: SyncerOptions) {
    this.kube = options.kube;
    this.actor = options.actor ?? 'the identity applying';
    this.applier = new Applier({
      kube: options.kube,
      fieldManager: options.fieldManager ?? 'trellis-gitops',
      concurrency: options.concurrency ?? 8,
    });
  }

  /** Parses and places the files; `TRL_GITOPS_*` errors name the file and object. */
  async load(files: SourceFile[], policy: NamespacePolicy): Promise<KubeObject[]> {
    return placeObjects(
      parseManifests(files),
      policy,
      async (apiVersion, kind) => (await this.kube.mapper.resolve(apiVersion, kind))?.namespaced,
    );
  }

  /** The plan (create / update / unchanged / prune with field diffs), from dry runs. */
  plan(objects: KubeObject[], previous: InventoryEntry[], owner: Owner): Promise<PlannedObject[]> {
    return this.applier.plan(objects, previous, owner);
  }

  /**
   * Validates (all objects, those `validate` picks, or none), applies (all, or those `applyOnly`
   * picks; the inventory is always all of `objects`) and, when `prune`, prunes.
   * Throws {@link SyncFailure}. Validation is worth its cost for what a new commit changed;
   * re-applying what the API server accepted before (drift correction) can skip it.
   */
  async sync(
    objects: KubeObject[],
    previous: InventoryEntry[],
    owner: Owner,
    options: {
      prune: boolean;
      validate: boolean | ((obj: KubeObject) => boolean);
      applyOnly?: (obj: KubeObject) => boolean;
    },
  ): Promise<SyncOutcome> {
    const current = objects.map(entryOf);
    if (options.validate) {
      const defined = scopesFromCrds(objects.map((object) => ({ object, source: '' })));
      const toValidate = typeof options.validate === 'function' ? objects.filter(options.validate) : objects;
      const rejected = await this.applier.validate(toValidate, owner, (o) => defined.has(`${o.apiVersion}/${o.kind}`));
      if (rejected.length) {
        const list = rejected.map(
          (r) => `${r.ref.kind}/${r.ref.namespace ? `${r.ref.namespace}/` : ''}${r.ref.name}: ${r.message}`,
        );
        // Refused by RBAC alone: a permission to grant (or an object to drop), not a manifest to fix.
        if (rejected.every((r) => r.forbidden))
          throw new SyncFailure(
            this.forbidden(`may not write ${rejected.length} object(s), nothing was applied: ${list.join('; ')}`),
            previous,
            'Forbidden',
          );
        throw new SyncFailure(
          new TrellisError(
            'TRL_GITOPS_REJECTED',
            `the API server rejected ${rejected.length} object(s), nothing was applied: ${list.join('; ')}`,
          ),
          previous,
          'Rejected',
        );
      }
    }
    let applied: AppliedObject[];
    try {
      applied = await this.applier.apply(options.applyOnly ? objects.filter(options.applyOnly) : objects, owner);
    } catch (err) {
      const inventory = unionEntries(previous, current);
      if (isForbidden((err as Error).cause))
        throw new SyncFailure(
          this.forbidden(
            `may not write ${(err as TrellisError).object ?? 'an object'}: ${messageOf((err as Error).cause)}`,
          ),
          inventory,
          'Forbidden',
        );
      const error = isTrellisError(err) ? err : new TrellisError('TRL_APPLY_REJECTED', String(err), { cause: err });
      throw new SyncFailure(error, inventory, 'ApplyFailed');
    }
    let pruned: PrunedObject[] = [];
    if (options.prune) {
      try {
        pruned = await this.applier.prune(previous, current, owner);
      } catch (err) {
        throw new SyncFailure(
          new TrellisError('TRL_GITOPS_PRUNE', `prune failed: ${(err as Error).message}`, { cause: err }),
          unionEntries(current, previous),
          'PruneFailed',
        );
      }
    }
    // Without prune, what left the repository stays in the inventory so a later prune can remove it.
    const refused = applied.flatMap((a) => (a.refusal ? [a.refusal] : []));
    return { applied, refused, pruned, inventory: options.prune ? current : unionEntries(current, previous) };
  }

  private forbidden(what: string): TrellisError {
    // The verb the API server names is the first one refused (apply/ reads before it writes): name all it needs.
    const verbs = `${APPLY_VERBS.join(', ')} (and ${PRUNE_VERBS.join(', ')}, to prune)`;
    return new TrellisError(
      'TRL_GITOPS_FORBIDDEN',
      `${this.actor} ${what} — grant it ${verbs} on those resources (a Role or ClusterRole bound to it) ` +
        'or remove the object from the repository',
    );
  }
}
