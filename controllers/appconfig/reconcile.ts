import type {
  ApplicationConfigurationStatus,
  HistoryWorkload,
  TypedReference,
} from '../../apis/generated/core.oam.dev-v1alpha2.js';
import { ANNOTATION_ADOPT, isSuspended } from '../../apis/labels.js';
import {
  entryKey,
  entryOf,
  unionEntries,
  type AppliedObject,
  type Applier,
  type InventoryEntry,
  type Owner,
} from '../../apply/index.js';
import { renderApplication } from '../../application/index.js';
import type { DefinitionSource } from '../../definitions/index.js';
import { isConflict, type Informer, type KubeClient, type KubeObject } from '../../kube/index.js';
import { refOf } from '../../kube/types.js';
import { isTrellisError } from '../../lib/errors.js';
import { appConfigId, planApplication, type BoundApplication } from '../../render/index.js';
import type { CueEngine } from '../../cue/index.js';
import type { EventRecorder, ReconcileContext, Reconciler, Request, Result } from '../../runtime/index.js';
import { isTrue } from '../../status/conditions.js';
import { objectHealth, type Health } from '../../status/health.js';
import { policyHealth } from '../../status/health-policy.js';
import {
  handledRequest,
  reconcileRequested,
  SUSPENDED,
  suspendedMessage,
  suspendedConditions,
  wasSuspended,
} from '../../status/suspend.js';
import { writeStatus } from '../../status/write.js';
import { workloadHealth, type HealthReader } from '../../status/workload-health.js';
import type { ComponentRevision } from '../component/revisions.js';
import { STATUS_FIELD_MANAGER } from '../field-managers.js';
import type { ApplicationConfiguration, Component } from '../types.js';
import { markApplyOnce } from './apply-once.js';
import type { ReconcilePhase } from './metrics.js';
import { gateDependencies, inputStores, passesData, storeKinds, type Gate } from './dependencies.js';
import {
  childrenFingerprint,
  inputsFingerprint,
  observedEntries,
  recordedFingerprint,
  type Observed,
  type RenderReason,
} from './fingerprint.js';
import { revisionHistory } from './history.js';
import { cleanUpOutside, outsideEntries, setOutsideFinalizer } from './outside.js';
import { FINALIZER_SCOPES, setScopesFinalizer, syncScopes, type ScopeMembers } from './scopes.js';
import { kindKey, unservedError, watchKinds, type KindsReport, type KindWatcher } from './kinds.js';
import { LiveReads } from './reads.js';
import type { OwnWrites } from './own-writes.js';
import type { UnservedWake } from './unserved-wake.js';
import { cachedComponents, RevisionPendingError } from './sources.js';
import {
  composeStatus,
  ownershipOf,
  prunedOf,
  REASONS,
  STATUS_FIELDS,
  withPlaceholders,
  type Observation,
  type Ownership,
  type Sync,
} from './status.js';
import { canonicalJson } from '../../lib/hash.js';

/**
 * How long an AppConfig naming a kind the API server does not serve waits before it looks again —
 * a safety net: a CRD established for the kind wakes it at once (unserved-wake.ts).
 */
export const UNSERVED_RECHECK_MS = 60_000;
/** A sharded replica waiting for a kind's first list looks again this much later (its objects wake it sooner). */
export const LISTING_RECHECK_MS = 5_000;
/** How soon it looks again when a CRD for the kind is established but discovery does not list it yet. */
const DISCOVERY_LAG_MS = 1_000;
/** Status writes from the API server's copy tried after a conflict before the reconcile is retried. */
const STATUS_WRITE_ATTEMPTS = 3;

export interface AppConfigReconcilerOptions {
  kube: KubeClient;
  applier: Applier;
  apps: Informer<ApplicationConfiguration>;
  components: Informer<Component>;
  revisions: Informer<ComponentRevision>;
  definitions: DefinitionSource;
  engine: CueEngine;
  recorder: EventRecorder;
  kinds: KindWatcher;
  /** Told which unserved kinds each AppConfig waits for (a CRD watch wakes it). @default none (the periodic look only) */
  wake?: Pick<UnservedWake, 'waitFor' | 'established'>;
  /** The Trellis version, part of the render fingerprint (with the engine's identity). @default '' */
  version?: string;
  /**
   * The revision of a Component's current spec, found or made as the Component controller would,
   * for a Component whose status does not name it yet: the AppConfig renders at once instead of
   * waiting for the Component controller's turn (issue 19, ADR 0016). @default none (it waits)
   */
  ensureRevision?: (component: Component) => Promise<ComponentRevision>;
  /**
   * The revision of a Component's current spec from the caches alone, for the render fingerprint of
   * an AppConfig whose Component's status does not name it yet (made by `ensureRevision`): without
   * it such a render records no fingerprint, and a restart renders it again (ADR 0008). @default none
   */
  cachedRevision?: (component: Component) => ComponentRevision | undefined;
  /**
   * Wait, rather than apply without a cache, while a rendered kind's first list is still coming in
   * with no error (a replica just started on a loaded server): sharded replicas (ADR 0009), whose
   * key's previous holder may have written what this one cannot see yet — written blind, a create
   * of an object that exists is refused (409). The list's objects wake the AppConfig; it is looked
   * at again after {@link LISTING_RECHECK_MS} regardless. A kind whose list fails (RBAC refuses it)
   * is still applied without a cache. @default false (apply without a cache after the sync timeout)
   */
  waitForLists?: boolean;
  /** Told the children written and vouched for (their watch events are this controller's own). @default none */
  ownWrites?: Pick<OwnWrites, 'add' | 'writing'>;
  /** Told whether each reconcile rendered (and why) or skipped (its inputs and children unchanged). */
  onRender?: (result: 'rendered' | 'skipped', reason?: RenderReason) => void;
  /** Told how long each phase of a reconcile took (wall time, seconds). */
  onPhase?: (phase: ReconcilePhase, seconds: number) => void;
}

/** What one apply did: every object rendered (applied, kept, or refused), and each one's result. */
interface ApplyResult {
  entries: InventoryEntry[];
  results: AppliedObject[];
}

const ref = (o: KubeObject): TypedReference => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  name: o.metadata.name ?? '',
});

/**
 * Makes the cluster match an ApplicationConfiguration, in the order of the pipeline:
 * load → render (+ bind) → hold back what waits for data → apply → prune → scopes → status.
 * Each failure becomes the `Synced` condition's reason and a Warning Event.
 */
export class AppConfigReconciler implements Reconciler {
  /** The resourceVersion of this reconcile's last status write, by the cached AppConfig it read (its placeholders are from that copy). */
  private readonly statusWrites = new WeakMap<ApplicationConfiguration, string>();
  /** The API server's answer to a status write, by the copy of the AppConfig it was written from. */
  private readonly newer = new WeakMap<ApplicationConfiguration, ApplicationConfiguration>();
  /**
   * The cached AppConfigs of passes whose caches may lag another replica's last writes
   * (`ReconcileContext.verify`, a shard just taken over): their writes are judged on the API
   * server's copies — children read before they are written, status written from a fresh read.
   */
  private readonly verifying = new WeakSet<ApplicationConfiguration>();

  constructor(private readonly o: AppConfigReconcilerOptions) {}

  async reconcile(ctx: ReconcileContext, req: Request): Promise<Result> {
    const app = this.latest(this.o.apps.get(req.name, req.namespace));
    if (!app || !ctx.verify) return this.pass(ctx, req, app);
    this.verifying.add(app);
    try {
      return await this.pass(ctx, req, app);
    } finally {
      this.verifying.delete(app);
    }
  }

  private async pass(ctx: ReconcileContext, req: Request, app: ApplicationConfiguration | undefined): Promise<Result> {
    if (!app) {
      this.o.wake?.waitFor(req, []);
      return {}; // deleted: owner references take its objects with it
    }
    if (app.metadata.deletionTimestamp) return this.finalize(app);
    if (isSuspended(app)) return this.suspend(app);
    const phase = this.phases();
    const inputs = await this.inputs(app);
    const reason = await this.renderReason(app, inputs);
    phase('check');
    if (!reason) {
      this.o.onRender?.('skipped');
      return {};
    }

    this.o.onRender?.('rendered', reason);
    ctx.logger.debug({ reason }, 'rendering');
    const reads = this.reads(app);
    const bound = await this.render(app, reads);
    phase('render');
    if (bound === 'pending') return { requeueAfter: 5_000 };
    if (!bound) return {}; // the error is in status; a change to the AppConfig, a Component or a definition wakes it

    const kinds = await watchKinds(this.o.kinds, bound, storeKinds(bound));
    if (this.o.waitForLists && kinds.syncing.some((k) => !k.error)) return { requeueAfter: LISTING_RECHECK_MS };
    this.o.wake?.waitFor(
      req,
      kinds.unserved.map((o) => o.object),
    );
    const gate = await this.gate(app, bound, reads);
    phase('gate');
    if (!gate) return {}; // a data operation that cannot run: the error is in status
    const unserved = new Set(kinds.unserved.map((o) => kindKey(o.object)));
    const applied = await this.apply(
      ctx,
      app,
      markApplyOnce(
        app,
        bound,
        gate.apply.filter((o) => !unserved.has(kindKey(o))),
      ),
      reads,
      !passesData(bound),
    );
    phase('apply');
    const kept = await this.prune(app, applied, gate, bound, reads);
    if (!outsideEntries(app, kept.inventory).length) await setOutsideFinalizer(this.o.kube, app, false);
    const missingScopes = await this.scopes(app, bound, gate);
    phase('prune');
    const ownership = ownershipOf(applied.results);
    const sync = this.syncOf(app, bound, kinds, applied, ownership, missingScopes);
    const health = await this.healthOf(bound, reads);
    // Recorded only when this pass is complete (synced, every kind listed): then equal inputs and children mean nothing to do.
    const complete = inputs && sync.ok && !kinds.syncing.length;
    const children = complete
      ? await this.observed(
          app,
          kept.inventory,
          bound.components.map((c) => ref(c.workload.object)),
          reads,
        )
      : undefined;
    const fingerprint = inputs && children ? { fingerprint: { inputs, children: childrenFingerprint(children) } } : {};
    phase('health');
    await this.status(
      app,
      {
        sync,
        bound,
        gate,
        inventory: kept.inventory,
        historyWorkloads: kept.history,
        health,
        ownership,
        ...fingerprint,
      },
      applied,
    );
    phase('status');
    // Retried with backoff: the API server may be back, the CRD installed, the webhook fixed.
    if (!sync.ok && sync.retry) throw new Error(sync.message);
    // Scopes, and store objects others write, wake nothing: look again. (Refused objects are waited
    // for by a watch on each, release-watch.ts, not by polling.)
    // A kind the API server does not serve is looked for again after a while, not retried with backoff
    // from 100 ms: 20 such AppConfigs retrying held every worker and an ordinary one waited 8.7x as
    // long for Synced (issue 19, bench:unserved). Its CRD installed, the next look (at most
    // UNSERVED_RECHECK_MS later) finds it: discovery is asked again on a miss (kube/mapper.ts).
    const stores = new Set(inputStores(bound).map((s) => `${s.apiVersion}/${s.kind}/${s.name}`));
    if (
      missingScopes.length ||
      gate.unsatisfied.some((u) => stores.has(`${u.from?.apiVersion}/${u.from?.kind}/${u.from?.name}`))
    )
      return { requeueAfter: 10_000 };
    if (!kinds.unserved.length) return {};
    // Waiting for a CRD no ordinary change brings: its events queue behind fresh work (the queue's
    // low lane), so 20 such AppConfigs cannot sit ahead of an ordinary one (issue 19, bench:unserved).
    const lagging = kinds.unserved.some((o) => this.o.wake?.established(o.object));
    return { requeueAfter: lagging ? DISCOVERY_LAG_MS : UNSERVED_RECHECK_MS, priority: 'low' };
  }

  /**
   * A suspended AppConfig (`trellis suspend`): nothing rendered, applied or pruned — what runs stays
   * as it is, drift included. Status says so (condition `Suspended`, `syncReason`), with an Event
   * when it starts. A reconcile request is recorded as handled: looked at, and still suspended.
   */
  private async suspend(app: ApplicationConfiguration) {
    if (!wasSuspended(app.status?.conditions))
      this.o.recorder.event(app, 'Normal', SUSPENDED, 'Suspend', suspendedMessage());
    await this.writeStatus(app, {
      ...app.status,
      conditions: suspendedConditions(app.status?.conditions, suspendedMessage()),
      syncReason: SUSPENDED,
      ...handledRequest(app),
    });
    return {};
  }

  /** The `Synced` verdict of one pass, with a Warning Event for each problem: what could not be applied, and why. */
  private syncOf(
    app: ApplicationConfiguration,
    bound: BoundApplication,
    kinds: KindsReport,
    applied: ApplyResult,
    ownership: Ownership,
    missingScopes: string[],
  ): Sync {
    const problems: { reason: string; message: string; retry: boolean }[] = [];
    // A refusal's Event is written once, when it appears (status()); the others each pass (the recorder aggregates repeats).
    if (ownership.refused.length)
      problems.push({
        reason: REASONS.ownershipConflict,
        message: ownership.refused.map((r) => r.message).join('; '),
        retry: false,
      });
    if (kinds.unserved.length)
      problems.push({
        reason: REASONS.kindNotServed,
        message: unservedError(appConfigId(app, app.metadata.namespace!), bound, kinds.unserved).message,
        // Looked at again after UNSERVED_RECHECK_MS, not retried with backoff (see reconcile()).
        retry: false,
      });
    for (const r of applied.results)
      if (r.action === 'failed' && r.error)
        problems.push({ reason: REASONS.applyFailed, message: r.error.message, retry: true });
    if (missingScopes.length)
      problems.push({
        reason: REASONS.scopeNotFound,
        message: `${missingScopes.join(', ')} not found; its workloads are added once it exists`,
        retry: false,
      });
    // A problem looked at again later (not retried) is news once: while the Synced condition already
    // says it, a pass that finds it again writes no Event (an unserved kind's periodic look).
    const said = app.status?.conditions?.find((c) => c.type === 'Synced' && c.status === 'False')?.message ?? '';
    for (const p of problems)
      if (p.reason !== REASONS.ownershipConflict && (p.retry || !said.includes(p.message)))
        this.o.recorder.event(app, 'Warning', p.reason, 'Apply', p.message);
    const count = applied.results.filter((r) => r.action !== 'refused' && r.action !== 'failed').length;
    const notes = [
      `${count} object${count === 1 ? '' : 's'} applied`,
      ...kinds.syncing.map(
        (k) => `${k.apiVersion} ${k.kind} is not listed yet${k.error ? ` (${k.error})` : ''}: applied without a cache`,
      ),
      ...prunedOf(applied.results).map(
        (p) => `${p.object}: dropped ${p.fields.join(', ')} (not declared by its schema)`,
      ),
    ];
    if (!problems.length) return { ok: true, message: notes.join('; ') };
    return {
      ok: false,
      reason: problems[0]!.reason,
      message: `${problems.map((p) => p.message).join('; ')} (${notes.join('; ')})`,
      retry: problems.some((p) => p.retry),
    };
  }

  /**
   * Which objects may be applied now and which wait for data, from this reconcile's reads — plus a
   * read of each store object an input takes from that the cache does not hold (one made by hand
   * carries no `app.oam.dev/name` label). A data operation that cannot run is the input's fault:
   * written to status (undefined).
   */
  private async gate(
    app: ApplicationConfiguration,
    bound: BoundApplication,
    reads: LiveReads,
  ): Promise<Gate | undefined> {
    const namespace = app.metadata.namespace!;
    const fetched = new Map<string, KubeObject>();
    for (const s of inputStores(bound)) {
      if (reads.get({ ...s, namespace })) continue;
      const obj = await this.o.kube.getOrNull<KubeObject>({ ...s, namespace }).catch(() => undefined);
      if (obj) fetched.set(`${s.apiVersion}/${s.kind}/${s.name}`, obj);
    }
    try {
      return gateDependencies(bound, (r) => reads.get(r) ?? fetched.get(`${r.apiVersion}/${r.kind}/${r.name}`), app);
    } catch (err) {
      if (!isTrellisError(err)) throw err;
      this.o.recorder.event(app, 'Warning', REASONS.renderFailed, 'Render', err.message);
      await this.status(app, { sync: { ok: false, reason: REASONS.renderFailed, message: err.message, retry: false } });
      return undefined;
    }
  }

  /** Hash of every input of the render (undefined when they cannot be resolved: the render says why). */
  private async inputs(app: ApplicationConfiguration): Promise<string | undefined> {
    const namespace = app.metadata.namespace!;
    try {
      const plan = await planApplication({
        appConfig: app,
        namespace,
        components: cachedComponents(namespace, this.o.components, this.o.revisions, async (c) => {
          const revision = this.o.cachedRevision?.(c);
          if (!revision) throw new RevisionPendingError(c.metadata.name ?? '');
          return revision;
        }),
        definitions: this.o.definitions,
        engine: this.o.engine,
      });
      return inputsFingerprint(plan.fingerprint(), app, {
        engine: await this.o.engine.identity(),
        version: this.o.version ?? '',
      });
    } catch {
      return undefined;
    }
  }

  /**
   * Why this reconcile renders ({@link RenderReason}), or undefined when it need not: the last
   * reconcile succeeded with these very inputs and nothing it left behind has been written since
   * (same resourceVersions in the informer caches) — rendering and applying again would change
   * nothing, and status is current.
   */
  private async renderReason(
    app: ApplicationConfiguration,
    inputs: string | undefined,
  ): Promise<RenderReason | undefined> {
    // A reconcile asked for (`trellis reconcile`), or the first pass after a resume, is a full one.
    if (reconcileRequested(app) || wasSuspended(app.status?.conditions)) return 'forced';
    if (!inputs) return 'unresolved';
    const recorded = recordedFingerprint(app);
    if (!recorded) return app.status?.observedGeneration !== app.metadata.generation ? 'generation' : 'unrecorded';
    if (recorded.inputs !== inputs) return 'inputs';
    const inventory = (app.status?.inventory ?? []) as InventoryEntry[];
    const kinds = new Map(inventory.map((e) => [`${e.apiVersion}/${e.kind}`, e]));
    try {
      await Promise.all([...kinds.values()].map((k) => this.o.kinds.ensure(k.apiVersion, k.kind)));
    } catch {
      return 'children'; // a kind no longer served: the full pass reports it
    }
    const workloads = (app.status?.workloads ?? []).flatMap((w) => (w.workloadRef ? [w.workloadRef] : []));
    const observed = await this.observed(app, inventory, workloads, this.reads(app));
    return childrenFingerprint(observed) === recorded.children ? undefined : 'children';
  }

  /**
   * The AppConfig as last known: the cached copy, or the answer to this reconciler's own status
   * write of it when the cache has not caught up yet — the reconcile that a child's watch event
   * wakes right after a write (its own, vouched for) must see the fingerprint it just recorded, or
   * it renders again for nothing. A copy the cache holds later (any change) is newer still.
   */
  private latest(cached: ApplicationConfiguration | undefined): ApplicationConfiguration | undefined {
    let app = cached;
    for (let next = app && this.newer.get(app); next; next = this.newer.get(next)) app = next;
    return app;
  }

  /** A clock for this reconcile's phases: each call reports the time since the previous one (or the start). */
  private phases(): (name: ReconcilePhase) => void {
    let last = performance.now();
    return (name) => {
      const now = performance.now();
      this.o.onPhase?.(name, (now - last) / 1000);
      last = now;
    };
  }

  private reads(app: ApplicationConfiguration): LiveReads {
    return new LiveReads((v, k) => this.o.kinds.get(v, k), app.metadata.namespace!);
  }

  /**
   * Everything a reconcile's outcome rests on besides its inputs, at the versions it read them:
   * each inventory object and the children health reads of workloads whose kind creates some.
   */
  private async observed(
    app: ApplicationConfiguration,
    inventory: InventoryEntry[],
    workloads: TypedReference[],
    reads: LiveReads,
  ): Promise<Observed[]> {
    const namespace = app.metadata.namespace!;
    const observed = observedEntries(inventory, reads.recorded);
    for (const w of workloads) {
      const workload = reads.first(w);
      if (!workload?.metadata.uid) continue;
      for (const kind of await this.o.kinds.childKinds(w.apiVersion, w.kind)) {
        for (const child of reads.children(kind, namespace, workload.metadata.uid))
          observed.push({ key: entryKey(entryOf(child)), object: reads.recorded(entryOf(child)) });
      }
    }
    return observed;
  }

  /** Render + bind; a render error is written to status (undefined), a pending revision waits. */
  private async render(
    app: ApplicationConfiguration,
    reads: LiveReads,
  ): Promise<BoundApplication | undefined | 'pending'> {
    const namespace = app.metadata.namespace!;
    try {
      return await renderApplication({
        appConfig: app,
        namespace,
        components: cachedComponents(namespace, this.o.components, this.o.revisions, this.o.ensureRevision),
        definitions: this.o.definitions,
        engine: this.o.engine,
        live: reads.get,
      });
    } catch (err) {
      if (err instanceof RevisionPendingError) return 'pending';
      if (!isTrellisError(err) || err.code === 'TRL_CUE_ENGINE') throw err; // not the input's fault: retry with backoff
      this.o.recorder.event(app, 'Warning', REASONS.renderFailed, 'Render', err.message);
      await this.status(app, { sync: { ok: false, reason: REASONS.renderFailed, message: err.message, retry: false } });
      return undefined;
    }
  }

  /**
   * Records the intent in status.inventory first (so a crash mid-apply leaves no orphan), then
   * applies through apply/ (owner reference, mark, hash, ownership check, order, limit). An object
   * the API server refuses is a `failed` result; everything else is applied all the same.
   *
   * An update is vouched for (its written version recorded in the fingerprint, so its own watch
   * event wakes a reconcile that skips) when `vouch` (no data passes: the dependency gate read no
   * live field) and its status is the one first read: render (`context.output`) read only that of
   * the live object, and health reads the written version already. A creation is not: render saw
   * no live object at all.
   */
  private async apply(
    ctx: ReconcileContext,
    app: ApplicationConfiguration,
    desired: KubeObject[],
    reads: LiveReads,
    vouch: boolean,
  ): Promise<ApplyResult> {
    const previous = (app.status?.inventory ?? []) as InventoryEntry[];
    const intent = unionEntries(previous, desired.map(entryOf));
    if (intent.length !== previous.length) await this.writeStatus(app, { ...app.status, inventory: intent });
    // Before anything lands where owner references cannot reach, so a crash leaves nothing behind for good.
    if (outsideEntries(app, intent).length) await setOutsideFinalizer(this.o.kube, app, true);
    const wrote = (r: AppliedObject) =>
      r.action !== 'unchanged' && r.action !== 'kept' && r.action !== 'refused' && r.action !== 'failed';
    const vouched = new Set<AppliedObject>();
    // Updates of what may be vouched for are held while unanswered: their events may come first.
    const writing = vouch
      ? this.o.ownWrites?.writing(desired.filter((o) => reads.first(entryOf(o))).map((o) => entryKey(entryOf(o))))
      : undefined;
    let results: AppliedObject[];
    try {
      results = await this.o.applier.apply(desired, this.owner(app), {
        live: (o) => reads.get(entryOf(o)),
        verifyCached: this.verifying.has(app),
        keepGoing: true,
        // Recorded as each write is answered: its watch event may be handled before the other writes return.
        onApplied: (r) => {
          const before = r.action === 'configured' ? reads.first(r.ref) : undefined;
          if (!vouch || !before || canonicalJson(before.status) !== canonicalJson(r.object.status)) return;
          vouched.add(r);
          this.o.ownWrites?.add(r.object);
        },
      });
    } finally {
      writing?.();
    }
    const written = results.filter(wrote);
    for (const r of written) reads.wrote(r.object, { vouch: vouched.has(r) });
    if (written.length)
      ctx.logger.debug({ written: written.map((r) => `${r.action} ${r.ref.kind}/${r.ref.name}`) }, 'applied');
    return { entries: results.filter((r) => r.action !== 'failed').map((r) => r.ref), results };
  }

  /**
   * Deletes what this AppConfig applied before and no longer renders (and still carries its mark).
   * Kept: consumers held back for data, and what older revisions of revisionEnabled components still run.
   */
  private async prune(
    app: ApplicationConfiguration,
    applied: ApplyResult,
    gate: Gate,
    bound: BoundApplication,
    reads: LiveReads,
  ): Promise<{ inventory: InventoryEntry[]; history: HistoryWorkload[] }> {
    const previous = (app.status?.inventory ?? []) as InventoryEntry[];
    const current = new Set(applied.entries.map(entryKey));
    const live = reads.get;
    // Held back for data, or refused by the API server this time: what exists of them stays.
    const waiting = [
      ...gate.held.map(entryOf),
      ...applied.results.filter((r) => r.action === 'failed').map((r) => r.ref),
    ];
    const held = waiting.filter((e) => !current.has(entryKey(e)) && previous.some((p) => entryKey(p) === entryKey(e)));
    const kept = bound.components.map((c) => revisionHistory(c, previous, current, live));
    const historyEntries = kept.flatMap((h) => h.entries);
    const history = kept.flatMap((h) => h.workloads);
    const keep = [...applied.entries, ...held, ...historyEntries];
    const pruned = await this.o.applier.prune(previous, keep, this.owner(app));
    const deleted = pruned.filter((p) => p.action === 'deleted').map((p) => `${p.ref.kind}/${p.ref.name}`);
    if (deleted.length)
      this.o.recorder.event(app, 'Normal', 'Pruned', 'Prune', `deleted ${deleted.join(', ')} (no longer rendered)`);
    return { inventory: keep, history };
  }

  /** Scope membership of the workloads that exist, and the finalizer that takes them out again. */
  private async scopes(app: ApplicationConfiguration, bound: BoundApplication, gate: Gate): Promise<string[]> {
    const members = new Map<string, ScopeMembers>();
    for (const c of bound.components) {
      if (gate.heldComponents.has(c.name)) continue;
      for (const s of c.scopes) {
        const k = `${s.apiVersion}/${s.kind}/${s.name}`;
        if (!members.has(k))
          members.set(k, { scope: { apiVersion: s.apiVersion, kind: s.kind, name: s.name }, workloads: [] });
        members.get(k)!.workloads.push(ref(c.workload.object));
      }
    }
    const previous = this.previousScopes(app);
    if (!members.size && !previous.length) return setScopesFinalizer(this.o.kube, app, false).then(() => []);
    if (members.size) await setScopesFinalizer(this.o.kube, app, true);
    const missing = await syncScopes(this.o.kube, this.o.definitions, app, [...members.values()], previous);
    if (!members.size) await setScopesFinalizer(this.o.kube, app, false);
    return missing;
  }

  /** Deletion: take the workloads out of their scopes, then let the AppConfig go (owner references delete the rest). */
  private async finalize(app: ApplicationConfiguration) {
    await cleanUpOutside(this.o.kube, this.o.applier, app, this.owner(app));
    if (!app.metadata.finalizers?.includes(FINALIZER_SCOPES)) return {};
    await syncScopes(this.o.kube, this.o.definitions, app, [], this.previousScopes(app));
    await setScopesFinalizer(this.o.kube, app, false);
    return {};
  }

  private previousScopes(app: ApplicationConfiguration): TypedReference[] {
    return (app.status?.workloads ?? []).flatMap((w) =>
      (w.scopes ?? []).flatMap((s) => (s.scopeRef ? [s.scopeRef] : [])),
    );
  }

  /** Health of what was rendered, from the informer caches (workloads by their children when their kind has some). */
  private async healthOf(bound: BoundApplication, reads: LiveReads): Promise<(r: TypedReference) => Health> {
    const liveOf = reads.get;
    const reader: HealthReader = { children: async (kind, ns, uid) => reads.children(kind, ns, uid) };
    // A definition's CUE health policy decides when it has one; else the kind's rule (or its children's).
    const health = new Map<string, Health>();
    await Promise.all(
      bound.components.map(async (c) => {
        const w = ref(c.workload.object);
        const byPolicy = await policyHealth(this.o.engine, c.definition, liveOf(w));
        health.set(
          `${w.kind}/${w.name}`,
          byPolicy ?? (await workloadHealth(liveOf(w), await this.o.kinds.childKinds(w.apiVersion, w.kind), reader)),
        );
        for (const t of c.traits) {
          if (!t.object) continue;
          const tr = ref(t.object.object);
          const traitPolicy = await policyHealth(this.o.engine, t.definition, liveOf(tr));
          if (traitPolicy) health.set(`${tr.kind}/${tr.name}`, traitPolicy);
        }
      }),
    );
    return (r) => health.get(`${r.kind}/${r.name}`) ?? objectHealth(liveOf(r));
  }

  /**
   * Writes status (server-side apply, status field manager) when it changed; Events on transitions,
   * recorded once the status write is answered (or failed): the recorder writes them in the
   * background, but recorded first their POSTs would reach the API server beside the status PATCH.
   */
  private async status(app: ApplicationConfiguration, observation: Observation, applied?: ApplyResult): Promise<void> {
    const next = composeStatus(app, observation);
    const events: Parameters<EventRecorder['event']>[] = [];
    const event = (...args: Parameters<EventRecorder['event']>) => events.push(args);
    const wasSynced = isTrue(app.status?.conditions, 'Synced');
    const nowSynced = isTrue(next.conditions, 'Synced');
    const names = (action: AppliedObject['action']) =>
      (applied?.results ?? []).filter((r) => r.action === action).map((r) => `${r.ref.kind}/${r.ref.name}`);
    const [created, updated] = [names('created'), names('configured')];
    for (const r of (applied?.results ?? []).filter((x) => x.action === 'adopted')) {
      event(
        app,
        'Normal',
        'Adopted',
        'Apply',
        `adopted ${r.ref.kind}/${r.ref.name}, which was ${r.adoptedFrom}, on its ${ANNOTATION_ADOPT} annotation`,
      );
    }
    // A refusal is news once: when it appears or its holder changes (the condition keeps saying it).
    const before = new Set((app.status?.ownership?.refused ?? []).map((r) => r.message));
    for (const r of next.ownership?.refused ?? [])
      if (!before.has(r.message)) event(app, 'Warning', REASONS.ownershipConflict, 'Apply', r.message);
    if (created.length || updated.length) {
      const what = [
        ...(created.length ? [`created ${created.join(', ')}`] : []),
        ...(updated.length ? [`updated ${updated.join(', ')}`] : []),
      ].join('; ');
      event(app, 'Normal', 'Applied', 'Apply', what);
    } else if (nowSynced && !wasSynced) {
      event(app, 'Normal', 'Synced', 'Apply', 'everything rendered is applied');
    }
    if (wasSuspended(app.status?.conditions))
      event(app, 'Normal', 'Resumed', 'Suspend', 'reconciling again: trellis.dev/suspend was removed');
    // Readiness changes are worth an Event; the first verdict only when it is bad news.
    const wasReady = app.status?.conditions?.find((c) => c.type === 'Ready');
    const ready = next.conditions?.find((c) => c.type === 'Ready');
    if (ready && (wasReady ? wasReady.status !== ready.status : ready.status !== 'True')) {
      event(
        app,
        ready.status === 'True' ? 'Normal' : 'Warning',
        ready.reason ?? 'Ready',
        'Health',
        ready.message ?? '',
      );
    }
    try {
      await this.writeStatus(app, next);
    } finally {
      for (const args of events) this.o.recorder.event(...args);
    }
  }

  private async writeStatus(app: ApplicationConfiguration, status: ApplicationConfigurationStatus): Promise<void> {
    const current = (app.status ?? {}) as Record<string, unknown>;
    const next = status as Record<string, unknown>;
    if (STATUS_FIELDS.every((k) => canonicalJson(next[k]) === canonicalJson(current[k]))) return;
    const options = { fieldManager: STATUS_FIELD_MANAGER, fields: STATUS_FIELDS };
    // Other controllers' placeholders (in atomic lists) from the cached copy, written only while the
    // AppConfig is still at that version (or at this reconcile's own last write of it); when it moved
    // on, from the API server's copy.
    const version = this.statusWrites.get(app) ?? (this.verifying.has(app) ? undefined : app.metadata.resourceVersion);
    if (!version) {
      // Not conditional on a copy that may lag: from the API server's (a shard just taken over).
      const written = await this.writeStatusFresh(app, status, options);
      if (written) this.newer.set(app, written);
      return;
    }
    try {
      const written = await writeStatus(this.o.kube, app, withPlaceholders(status, app.status), {
        ...options,
        ...(version ? { resourceVersion: version } : {}),
      });
      // The object now holds the cached copy's placeholders: a next write from that copy may follow this version.
      if (written?.metadata.resourceVersion) {
        this.statusWrites.set(app, written.metadata.resourceVersion);
        this.newer.set(app, written as ApplicationConfiguration);
      }
    } catch (err) {
      if (!isConflict(err)) throw err;
      // Placeholders the cached copy does not have: every later write from that copy reads them again.
      this.statusWrites.delete(app);
      const written = await this.writeStatusFresh(app, status, options);
      if (written) this.newer.set(app, written);
    }
  }

  /**
   * The status write after a conflict: from the API server's copy, conditional on its version, so a
   * placeholder another controller writes between this read and this write is not lost (the write
   * would replace the atomic trait list without it); read again on each further conflict. A read that
   * fails throws (the reconcile is retried) rather than writing without the placeholders.
   */
  private async writeStatusFresh(
    app: ApplicationConfiguration,
    status: ApplicationConfigurationStatus,
    options: { fieldManager: string; fields: string[] },
  ): Promise<ApplicationConfiguration | undefined> {
    for (let attempt = 1; ; attempt++) {
      const fresh = await this.o.kube.getOrNull<ApplicationConfiguration>(refOf(app));
      if (!fresh) return undefined;
      try {
        const written = await writeStatus(this.o.kube, fresh, withPlaceholders(status, fresh.status), {
          ...options,
          resourceVersion: fresh.metadata.resourceVersion!,
        });
        return (written as ApplicationConfiguration | undefined) ?? fresh;
      } catch (err) {
        if (!isConflict(err) || attempt >= STATUS_WRITE_ATTEMPTS) throw err;
      }
    }
  }

  private owner(app: ApplicationConfiguration): Owner {
    return {
      apiVersion: app.apiVersion,
      kind: app.kind,
      name: app.metadata.name!,
      namespace: app.metadata.namespace!,
      uid: app.metadata.uid!,
    };
  }
}
