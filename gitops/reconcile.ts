import { createHash } from 'node:crypto';
import path from 'node:path';
import { rm } from 'node:fs/promises';
import { API_VERSION, type GitSync } from '../apis/generated/gitops.trellis.dev-v1alpha1.js';
import { entryKey, entryOf, type InventoryEntry, type Owner } from '../apply/index.js';
import type { KubeClient } from '../kube/client.js';
import type { KubeObject } from '../kube/types.js';
import { TrellisError, isTrellisError, messageOf } from '../lib/errors.js';
import { silentLogger, type Logger } from '../lib/log.js';
import type { EventRecorder, ReconcileContext, Reconciler, Request, Result } from '../runtime/index.js';
import { credentialsFromSecret, secretValues, type GitCredentials } from './credentials.js';
import { fetchRepository } from './fetch.js';
import { readCommitFiles } from './git-tree.js';
import type { GitOpsMetrics } from './metrics.js';
import { redact } from './redact.js';
import type { ReadLimits } from './source-files.js';
import { condition, gitSyncSuspended, nextStatus, parseDuration, type SyncReport } from './status.js';
import { SyncFailure, Syncer } from './sync.js';
import {
  handledRequest,
  reconcileRequested,
  SUSPENDED,
  suspendedConditions,
  suspendedMessage,
  wasSuspended,
} from '../status/suspend.js';
import { writeStatus } from '../status/write.js';
import { cleanUpAfterGitSync, type CleanupOutcome } from './deletion.js';
import { addFinalizer, hasFinalizer, removeFinalizer } from './finalizer.js';
import { serviceAccountExists, syncIdentity, type SyncIdentity } from './identity.js';

/** The field manager GitSync writes with, for both applied objects and its own status. */
export const GITOPS_FIELD_MANAGER = 'trellis-gitops';

export interface GitSyncReconcilerOptions {
  kube: KubeClient;
  /** Where fetched repositories are kept between syncs (one folder per GitSync). */
  cacheDir: string;
  logger?: Logger;
  /** Where Events about GitSyncs go: the manager's recorder. */
  recorder: EventRecorder;
  metrics?: GitOpsMetrics;
  /** Upper bound on the repository's object store. @default 256 MiB */
  maxRepoBytes?: number;
  limits?: ReadLimits;
  /** Objects applied at once. @default 8 */
  concurrency?: number;
  /**
   * The ServiceAccount (in each GitSync's own namespace) that GitSyncs without
   * `spec.serviceAccountName` act as — Flux's `--default-service-account`: operators force
   * least privilege on every GitSync. @default none: such GitSyncs act as the controller itself
   */
  defaultServiceAccount?: string;
}

/** A GitSync, by namespace and name. */
type GitSyncKey = Required<Request>;

/** The owner mark of what a GitSync applies. */
export function gitSyncOwner(gs: { metadata: { name?: string; namespace?: string } }): Owner {
  return { apiVersion: API_VERSION, kind: 'GitSync', name: gs.metadata.name!, namespace: gs.metadata.namespace! };
}

const DEFAULT_INTERVAL_MS = 5 * 60_000;

/**
 * One pass over one GitSync, reading like the pipeline: credentials → fetch → read → load (parse
 * + namespace policy) → validate (dry runs, for a new commit) → apply → prune → status + Event.
 * Each failing stage maps to a result (`FetchFailed`, `InvalidManifests`, `Rejected`, ...) that
 * leaves the last good commit running and prunes nothing.
 */
export class GitSyncReconciler implements Reconciler {
  private readonly kube: KubeClient;
  private readonly syncer: Syncer;
  private readonly logger: Logger;
  private readonly recorder: EventRecorder;
  /**
   * Per GitSync: a hash of each object as last accepted and applied, so a new commit validates only
   * what it changed — valid for one generation of the spec (a new identity, prune or policy
   * re-validates everything).
   */
  private readonly accepted = new Map<string, { generation: number | undefined; hashes: Map<string, string> }>();
  /** Per GitSync: when every object was last applied (drift correction). */
  private readonly lastFullApply = new Map<string, number>();

  constructor(private readonly options: GitSyncReconcilerOptions) {
    this.kube = options.kube;
    this.logger = options.logger ?? silentLogger;
    this.recorder = options.recorder;
    this.syncer = new Syncer({
      kube: options.kube,
      fieldManager: GITOPS_FIELD_MANAGER,
      concurrency: options.concurrency ?? 8,
    });
  }

  /**
   * One pass; never throws for a sync failure (that is status), only for failures to read or
   * report, and while a deleted GitSync cannot clean up (retried with backoff). Asks to run again
   * after the GitSync's `spec.interval`.
   */
  async reconcile(_ctx: ReconcileContext, request: Request): Promise<Result> {
    const req: GitSyncKey = { namespace: request.namespace ?? '', name: request.name };
    let gs = await this.kube.getOrNull<GitSync & KubeObject>({ apiVersion: API_VERSION, kind: 'GitSync', ...req });
    if (!gs) return this.forget(req);
    if (gs.metadata.deletionTimestamp) return this.finalize(gs);
    if (!hasFinalizer(gs)) gs = { ...gs, metadata: (await addFinalizer(this.kube, gs)).metadata };
    const interval = parseDuration(gs.spec.interval, DEFAULT_INTERVAL_MS);
    if (gitSyncSuspended(gs)) return this.suspend(gs);
    if (wasSuspended(gs.status?.conditions))
      this.recorder.event(gs, 'Normal', 'Resumed', 'Sync', 'syncing again: no longer suspended');
    // Asked for (`trellis reconcile`) or resumed: everything is applied again, drift corrected.
    if (reconcileRequested(gs) || wasSuspended(gs.status?.conditions))
      this.lastFullApply.delete(`${req.namespace}/${req.name}`);
    const started = performance.now();
    let secrets: string[] = [];
    const report = await this.sync(gs, interval, (s) => (secrets = s)).catch(
      (err: unknown): Omit<SyncReport, 'durationMs'> => ({ result: 'FetchFailed', message: messageOf(err) }),
    );
    const full: SyncReport = {
      ...report,
      message: redact(report.message, secrets),
      durationMs: performance.now() - started,
    };
    this.options.metrics?.observe(full.result, full.durationMs / 1000);
    await this.writeStatus(gs, full);
    this.record(gs, full);
    return { requeueAfter: interval };
  }

  /**
   * A suspended GitSync: nothing fetched, applied or pruned until it is resumed; a `Suspended`
   * condition (and an Event when it starts) says so; a reconcile request is recorded as handled (looked
   * at, still suspended). Its spec or annotations changing wakes it again.
   */
  private async suspend(gs: GitSync & KubeObject): Promise<Result> {
    const message = suspendedMessage(gs.spec.suspend ? 'spec.suspend is true' : undefined);
    if (!wasSuspended(gs.status?.conditions)) this.recorder.event(gs, 'Normal', SUSPENDED, 'Sync', message);
    const conditions = suspendedConditions(gs.status?.conditions, message, gs.metadata.generation);
    const status = { ...gs.status, conditions, ...handledRequest(gs) };
    await writeStatus(this.kube, gs, status, { fieldManager: GITOPS_FIELD_MANAGER });
    return {};
  }

  private async sync(
    gs: GitSync & KubeObject,
    interval: number,
    onSecrets: (s: string[]) => void,
  ): Promise<Omit<SyncReport, 'durationMs'>> {
    const where = `GitSync/${gs.metadata.namespace}/${gs.metadata.name}`;
    let fetched;
    try {
      const credentials = await this.credentials(gs);
      onSecrets(secretValues(credentials));
      fetched = await fetchRepository({
        url: gs.spec.url,
        cacheDir: this.cacheFor({ namespace: gs.metadata.namespace!, name: gs.metadata.name! }),
        timeoutMs: parseDuration(gs.spec.timeout, 60_000),
        ...(gs.spec.ref ? { ref: gs.spec.ref } : {}),
        ...(credentials ? { credentials } : {}),
        ...(this.options.maxRepoBytes ? { maxRepoBytes: this.options.maxRepoBytes } : {}),
      });
    } catch (err) {
      return { result: 'FetchFailed', message: messageOf(err) };
    }
    const commit = fetched.commit;
    const previous = (gs.status?.inventory ?? []) as InventoryEntry[];
    let objects: KubeObject[];
    try {
      const files = await readCommitFiles(fetched.repo, commit, gs.spec.path, this.options.limits);
      objects = await this.syncer.load(files, {
        targetNamespace: gs.spec.targetNamespace ?? gs.metadata.namespace!,
        allowedNamespaces: gs.spec.allowedNamespaces ?? [],
        allowClusterScoped: gs.spec.allowClusterScoped ?? false,
      });
    } catch (err) {
      if (!isTrellisError(err)) throw err;
      return { result: 'InvalidManifests', message: err.message, commit };
    }
    const identity = syncIdentity(this.kube, gs, this.options.defaultServiceAccount);
    if (identity.serviceAccount && !(await serviceAccountExists(this.kube, identity.serviceAccount))) {
      const { namespace, name } = identity.serviceAccount;
      const err = new TrellisError(
        'TRL_GITOPS_SERVICE_ACCOUNT',
        `ServiceAccount "${name}" (from ${identity.source}) does not exist in namespace "${namespace}": the GitSync acts as it and changes nothing until it exists`,
        {
          object: where,
          ...(identity.source === 'spec.serviceAccountName' ? { field: 'spec.serviceAccountName' } : {}),
        },
      );
      return { result: 'Forbidden', message: err.message, commit };
    }
    const syncer = identity.serviceAccount ? this.syncerFor(identity) : this.syncer;
    const alreadyGood =
      commit === gs.status?.lastAppliedCommit &&
      gs.status?.observedGeneration === gs.metadata.generation &&
      ['Applied', 'Unchanged'].includes(gs.status?.history?.[0]?.result ?? '');
    const key = `${gs.metadata.namespace}/${gs.metadata.name}`;
    const remembered = this.accepted.get(key);
    const accepted = alreadyGood || remembered?.generation !== gs.metadata.generation ? undefined : remembered?.hashes;
    const hashes = new Map(objects.map((o) => [entryKey(entryOf(o)), hashOf(o)]));
    const isNew = accepted
      ? (o: KubeObject) => accepted.get(entryKey(entryOf(o))) !== hashes.get(entryKey(entryOf(o)))
      : undefined;
    // A new commit applies what it changed; everything is re-applied (drift correction) on the same
    // commit, without a memory of what was accepted, and at least once per interval.
    const now = Date.now();
    const full = !isNew || now - (this.lastFullApply.get(key) ?? 0) >= interval;
    try {
      const outcome = await syncer.sync(objects, previous, gitSyncOwner(gs), {
        prune: gs.spec.prune ?? true,
        validate: alreadyGood ? false : (isNew ?? true),
        ...(full || !isNew ? {} : { applyOnly: isNew }),
      });
      this.accepted.set(key, { generation: gs.metadata.generation, hashes });
      if (full) this.lastFullApply.set(key, now);
      const changed = outcome.applied.filter((a) => !['unchanged', 'kept', 'refused'].includes(a.action)).length;
      const pruned = outcome.pruned.filter((p) => p.action === 'deleted').length;
      const summary = `${objects.length} object(s) from ${fetched.ref} at ${commit.slice(0, 12)}: ${changed} created or changed, ${pruned} pruned`;
      if (outcome.refused.length) {
        // The rest is applied; what someone else holds is left alone until they let go of it.
        const message = `${outcome.refused.length} refused, held by someone else: ${outcome.refused.map((r) => r.message).join('; ')} (${summary})`;
        return { result: 'OwnershipConflict', message, commit, applied: changed, pruned, inventory: outcome.inventory };
      }
      const result = changed || pruned || commit !== gs.status?.lastAppliedCommit ? 'Applied' : 'Unchanged';
      const message = summary;
      return { result, message, commit, applied: changed, pruned, inventory: outcome.inventory };
    } catch (err) {
      if (!(err instanceof SyncFailure)) throw err;
      this.logger.warn({ gitsync: where, stage: err.stage, err: err.error.message }, 'sync failed');
      return { result: err.stage, message: err.error.message, commit, inventory: err.inventory };
    }
  }

  private syncerFor(identity: SyncIdentity): Syncer {
    return new Syncer({
      kube: identity.kube,
      actor: identity.description,
      fieldManager: GITOPS_FIELD_MANAGER,
      concurrency: this.options.concurrency ?? 8,
    });
  }

  /**
   * A GitSync being deleted: clean up after it (see {@link cleanUpAfterGitSync}), then remove the
   * finalizer. While the clean-up fails, `Ready` says why and how to release the GitSync by hand,
   * a Warning Event is recorded, and the attempt is retried with backoff (by throwing).
   */
  private async finalize(gs: GitSync & KubeObject): Promise<Result> {
    const req: GitSyncKey = { namespace: gs.metadata.namespace!, name: gs.metadata.name! };
    if (!hasFinalizer(gs)) return this.forget(req);
    const namespace = await this.kube.getOrNull({ apiVersion: 'v1', kind: 'Namespace', name: req.namespace });
    const namespaceTerminating = !namespace || !!namespace.metadata.deletionTimestamp;
    const identity = syncIdentity(this.kube, gs, this.options.defaultServiceAccount);
    const outcome = await cleanUpAfterGitSync(gs, {
      kube: this.kube,
      identity,
      owner: gitSyncOwner(gs),
      fieldManager: GITOPS_FIELD_MANAGER,
      namespaceTerminating,
    });
    const log = { gitsync: `${req.namespace}/${req.name}`, reason: outcome.reason };
    if (outcome.type === 'Normal') this.logger.info(log, `deleted: ${outcome.message}`);
    else this.logger.warn({ ...log, err: outcome.message }, 'deleted GitSync: clean-up failed');
    // Nothing can be recorded in a namespace being deleted (the API server refuses new Events there).
    if (!namespaceTerminating) this.recorder.event(gs, outcome.type, outcome.reason, 'Sync', outcome.message);
    if (!outcome.done) {
      await this.writeDeletionBlocked(gs, outcome);
      throw new Error(outcome.message);
    }
    await removeFinalizer(this.kube, gs);
    return this.forget(req);
  }

  private async writeDeletionBlocked(gs: GitSync & KubeObject, outcome: CleanupOutcome): Promise<void> {
    const now = new Date().toISOString();
    const previous = gs.status?.conditions;
    const ready = condition(previous, 'Ready', 'False', outcome.reason, outcome.message, gs.metadata.generation, now);
    const conditions = [...(previous ?? []).filter((c) => c.type !== 'Ready'), ready];
    await writeStatus(this.kube, gs, { ...gs.status, conditions }, { fieldManager: GITOPS_FIELD_MANAGER });
  }

  /** Drops what this process keeps about a GitSync (memory and its fetched repository). */
  private async forget(req: GitSyncKey): Promise<Result> {
    this.accepted.delete(`${req.namespace}/${req.name}`);
    this.lastFullApply.delete(`${req.namespace}/${req.name}`);
    await rm(this.cacheFor(req), { recursive: true, force: true });
    return {};
  }

  private async credentials(gs: GitSync): Promise<GitCredentials | undefined> {
    const ref = gs.spec.secretRef;
    if (!ref) return undefined;
    const secret = await this.kube.getOrNull<KubeObject & { data?: Record<string, string> }>({
      apiVersion: 'v1',
      kind: 'Secret',
      name: ref.name,
      namespace: gs.metadata.namespace!,
    });
    if (!secret)
      throw new TrellisError('TRL_GITOPS_CREDENTIALS', `Secret "${ref.name}" does not exist`, {
        object: `GitSync/${gs.metadata.namespace}/${gs.metadata.name}`,
        field: 'spec.secretRef.name',
      });
    return credentialsFromSecret(secret);
  }

  private async writeStatus(gs: GitSync & KubeObject, report: SyncReport): Promise<void> {
    await writeStatus(this.kube, gs, nextStatus(gs, report), { fieldManager: GITOPS_FIELD_MANAGER });
  }

  /** An Event when something happened worth a person's attention: a new commit applied, or a failure. */
  private record(gs: GitSync & KubeObject, report: SyncReport): void {
    const log = {
      gitsync: `${gs.metadata.namespace}/${gs.metadata.name}`,
      result: report.result,
      commit: report.commit,
      ms: Math.round(report.durationMs),
    };
    if (report.result === 'Unchanged') return this.logger.debug(log, 'in sync');
    const ok = report.result === 'Applied';
    if (ok) this.logger.info(log, report.message);
    else this.logger.warn({ ...log, err: report.message }, 'sync failed');
    this.recorder.event(gs, ok ? 'Normal' : 'Warning', report.result, 'Sync', report.message);
  }

  private cacheFor(req: GitSyncKey): string {
    return path.join(this.options.cacheDir, req.namespace, req.name);
  }
}

/** A content hash of an object as it will be applied (with its namespace filled in). */
function hashOf(obj: KubeObject): string {
  return createHash('sha256').update(JSON.stringify(obj)).digest('base64url');
}
