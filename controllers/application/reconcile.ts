import { ANNOTATION_APPLY_ONCE, isSuspended } from '../../apis/labels.js';
import {
  entryKey,
  entryOf,
  unionEntries,
  type Applier,
  type ApplyOptions,
  type InventoryEntry,
  type Owner,
  sharersOf,
} from '../../apply/index.js';
import { selects } from '../../application/vela/policy-selector.js';
import { applyOnce, gcStrategy, type ApplyStage } from '../../application/vela/resource-policies.js';
import { renderVelaApplication, type RenderedVelaApplication } from '../../application/vela/render-vela.js';
import type { CueEngine } from '../../cue/index.js';
import type { DefinitionSource } from '../../definitions/index.js';
import { setFinalizer, type Informer, type KubeClient, type KubeObject } from '../../kube/index.js';
import { isTrellisError, messageOf } from '../../lib/errors.js';
import type { EventRecorder, ReconcileContext, Reconciler, Request } from '../../runtime/index.js';
import {
  handledRequest,
  SUSPENDED,
  suspendedConditions,
  suspendedMessage,
  wasSuspended,
} from '../../status/suspend.js';
import type { KindWatcher } from '../appconfig/kinds.js';
import { LiveReads } from '../appconfig/reads.js';
import { currentRevision, type AppRevision, type VelaApplication } from './revisions.js';
import { composeStatus, PHASES, statusChanged, writeStatus, type Outcome } from './status.js';
import { healthOf, runWorkflow } from './workflow.js';

/**
 * On an Application that shares objects with other Applications (KubeVela's `shared-resource`), or
 * made one others share: its deletion first lets go of them (see {@link ApplicationReconciler}).
 */
export const FINALIZER_SHARED = 'trellis.dev/shared-resources';

export interface ApplicationReconcilerOptions {
  kube: KubeClient;
  applier: Applier;
  apps: Informer<VelaApplication>;
  revisions: Informer<AppRevision>;
  definitions: DefinitionSource;
  engine: CueEngine;
  recorder: EventRecorder;
  kinds: KindWatcher;
  /** The API server's `gitVersion`, for `context.clusterVersion`. */
  clusterVersion: () => Promise<string>;
  /** Now, for the workflow's timeouts. @default Date.now */
  now?: () => number;
}

/**
 * Makes the cluster match a KubeVela Application, through the AppConfig pipeline's stages:
 * revision → render (application/vela) → workflow (which components now) → apply → prune → status
 * in KubeVela's shape (`status.status`, `services[]`, `workflow`). Invalid input is `workflowFailed`
 * with the reason, never "running workflow" forever.
 */
export class ApplicationReconciler implements Reconciler {
  constructor(private readonly o: ApplicationReconcilerOptions) {}

  async reconcile(ctx: ReconcileContext, req: Request) {
    const app = this.o.apps.get(req.name, req.namespace);
    if (!app) return {};
    if (app.metadata.deletionTimestamp) return this.finalize(app); // owner references take its own objects with it
    if (isSuspended(app)) return this.suspend(app);
    if (wasSuspended(app.status?.conditions))
      this.o.recorder.event(app, 'Normal', 'Resumed', 'Suspend', 'reconciling again: trellis.dev/suspend was removed');
    const { revision, created } = await currentRevision(this.o.kube, this.o.revisions, app);
    if (created)
      this.o.recorder.event(
        app,
        'Normal',
        'Revisioned',
        'Revision',
        `created ApplicationRevision ${revision.metadata.name}`,
      );
    const reads = new LiveReads((v, k) => this.o.kinds.get(v, k), app.metadata.namespace!);
    const rendered = await this.render(app, revision, reads);
    if (!rendered) return {}; // the error is in status; an edit of the Application or a definition wakes it
    await this.watchKinds(rendered);

    const health = await healthOf(rendered.app, reads, this.o.engine, this.o.kinds);
    const now = this.o.now?.() ?? Date.now();
    const run = runWorkflow(app, rendered, health, Date.parse(revision.metadata.creationTimestamp ?? '') || now, now);
    const desired = rendered.app.objects
      .map((o) => o.object)
      .filter((o) => run.apply.has(o.metadata.labels?.['app.oam.dev/component'] ?? ''));
    const { effects } = rendered;
    const marked = effects.applyOnce
      ? desired.map((o) => applyOnceEpoch(o, `${app.metadata.generation ?? 0}/${revision.metadata.name}`))
      : desired;
    // KubeVela's apply-once rules: the fields they name keep their live values (per stage, see stageOf).
    const stage = stageOf(app, revision);
    const once = marked.map((o) => applyOnce(effects.applyOnceRules, o, reads.get(entryOf(o)), stage));
    const keys = (list: KubeObject[]) => new Set(list.map((o) => entryKey(entryOf(o))));
    const shared = keys(
      rendered.app.objects.map((r) => r.object).filter((o) => effects.shared.some((s) => selects(s, o))),
    );
    const kept = keys(once.filter((o) => o.keep).map((o) => o.object));
    // A sharer lets go of what it shares when deleted (the finalizer): set before it shares anything.
    if (effects.shared.length) await setFinalizer(this.o.kube, app, FINALIZER_SHARED, true);
    const applied = await this.apply(
      ctx,
      app,
      once.map((o) => o.object),
      reads,
      {
        share: (o) => shared.has(entryKey(entryOf(o))),
        keep: (o) => kept.has(entryKey(entryOf(o))),
        uncontrolled: (o) => gcStrategy(effects.gcRules, o) === 'never',
      },
    );
    if (!applied) return {};
    // An object it made that others share now: it hands it on when deleted.
    if (applied.sharedByOthers) await setFinalizer(this.o.kube, app, FINALIZER_SHARED, true);
    const inventory = await this.prune(app, rendered, applied, reads);
    return this.status(app, { revision, rendered, health, run, inventory, refused: applied.refused });
  }

  /**
   * A deleted Application: what it shares with other Applications is released — its name leaves
   * `app.oam.dev/shared-by`, its owner reference goes, what it made passes to the next sharer — then
   * its finalizer goes and the garbage collector deletes what it alone owned.
   */
  private async finalize(app: VelaApplication) {
    if (!app.metadata.finalizers?.includes(FINALIZER_SHARED)) return {};
    const entries = (app.status?.appliedResources ?? []) as InventoryEntry[];
    const released = await this.o.applier.release(entries, this.owner(app));
    if (released.length)
      this.o.recorder.event(
        app,
        'Normal',
        'Released',
        'Delete',
        `let go of ${released.map((r) => `${r.kind}/${r.name}`).join(', ')} (shared with other Applications, which keep them)`,
      );
    await setFinalizer(this.o.kube, app, FINALIZER_SHARED, false);
    return {};
  }

  /**
   * A suspended Application (`trellis suspend`): nothing revisioned, rendered, applied or pruned; status
   * says so (a reconcile request is recorded as handled: looked at, still suspended).
   */
  private async suspend(app: VelaApplication) {
    if (!wasSuspended(app.status?.conditions))
      this.o.recorder.event(app, 'Normal', SUSPENDED, 'Suspend', suspendedMessage());
    const conditions = suspendedConditions(app.status?.conditions, suspendedMessage());
    const next = { ...app.status, conditions, ...handledRequest(app) };
    if (statusChanged(app, next)) await writeStatus(this.o.kube, app, next);
    return {};
  }

  private async render(
    app: VelaApplication,
    revision: AppRevision,
    reads: LiveReads,
  ): Promise<RenderedVelaApplication | undefined> {
    try {
      return await renderVelaApplication({
        application: app,
        definitions: this.o.definitions,
        engine: this.o.engine,
        live: reads.get,
        revision: revision.spec?.revision ?? 1,
        clusterVersion: await this.o.clusterVersion(),
      });
    } catch (err) {
      if (!isTrellisError(err) || err.code === 'TRL_CUE_ENGINE') throw err; // not the input's fault: retry with backoff
      this.o.recorder.event(app, 'Warning', 'RenderFailed', 'Render', err.message);
      await this.status(app, { revision, failed: { reason: 'RenderFailed', message: err.message } });
      return undefined;
    }
  }

  /** Every kind rendered is watched (label `app.oam.dev/name`), so drift and health changes wake the Application. */
  private async watchKinds(rendered: RenderedVelaApplication): Promise<void> {
    const kinds = new Map(rendered.app.objects.map(({ object }) => [`${object.apiVersion}/${object.kind}`, object]));
    await Promise.all([...kinds.values()].map((k) => this.o.kinds.ensure(k.apiVersion, k.kind).catch(() => undefined)));
  }

  /** Records the intent in `status.appliedResources` first (a crash mid-apply leaves no orphan), then applies through apply/. */
  private async apply(
    ctx: ReconcileContext,
    app: VelaApplication,
    desired: KubeObject[],
    reads: LiveReads,
    policies: Pick<ApplyOptions, 'share' | 'keep' | 'uncontrolled'>,
  ) {
    const previous = (app.status?.appliedResources ?? []) as InventoryEntry[];
    const intent = unionEntries(previous, desired.map(entryOf));
    if (intent.length !== previous.length)
      await writeStatus(this.o.kube, app, { ...app.status, appliedResources: intent });
    try {
      const results = await this.o.applier.apply(desired, this.owner(app), {
        live: (o) => reads.get(entryOf(o)),
        ...policies,
      });
      const written = results.filter(
        (r) => r.action === 'created' || r.action === 'configured' || r.action === 'adopted',
      );
      if (written.length) {
        ctx.logger.debug({ written: written.map((r) => `${r.action} ${r.ref.kind}/${r.ref.name}`) }, 'applied');
        this.o.recorder.event(
          app,
          'Normal',
          'Applied',
          'Apply',
          written.map((r) => `${r.action} ${r.ref.kind}/${r.ref.name}`).join(', '),
        );
      }
      const refused = results.flatMap((r) => (r.action === 'refused' && r.refusal ? [r.refusal.message] : []));
      for (const message of refused) this.o.recorder.event(app, 'Warning', 'OwnershipConflict', 'Apply', message);
      const me = `${app.metadata.namespace}/${app.metadata.name}`;
      const sharedByOthers = results.some((r) => sharersOf(r.object).some((s) => s !== me));
      return { entries: desired.map(entryOf), refused, sharedByOthers };
    } catch (err) {
      this.o.recorder.event(app, 'Warning', 'ApplyFailed', 'Apply', messageOf(err));
      throw err; // retried with backoff: the API server may be back, the CRD installed
    }
  }

  /**
   * Deletes what this Application applied before and renders no more (a removed component or trait);
   * objects of components the workflow has not reached yet stay. `garbage-collect` with
   * `keepLegacyResource: true` keeps everything; its rules keep what they give `onAppDelete` or `never`.
   */
  private async prune(
    app: VelaApplication,
    rendered: RenderedVelaApplication,
    applied: { entries: InventoryEntry[] },
    reads: LiveReads,
  ): Promise<InventoryEntry[]> {
    const previous = (app.status?.appliedResources ?? []) as InventoryEntry[];
    const renderedKeys = new Set(rendered.app.objects.map((o) => entryKey(entryOf(o.object))));
    const { keepLegacyResource, gcRules } = rendered.effects;
    const retained = await Promise.all(
      previous.map(async (p) => {
        // A component waiting for an input is not rendered now: what it runs stays until it renders again.
        if (renderedKeys.has(entryKey(p)) || keepLegacyResource || rendered.pending.length > 0) return true;
        if (!gcRules.length) return false;
        const live = reads.get(p) ?? (await this.o.kube.getOrNull(p).catch(() => undefined));
        return !!live && gcStrategy(gcRules, live) !== 'onAppUpdate';
      }),
    );
    const keep = unionEntries(
      applied.entries,
      previous.filter((_p, i) => retained[i]),
    );
    const pruned = await this.o.applier.prune(previous, keep, this.owner(app));
    const deleted = pruned.filter((p) => p.action === 'deleted').map((p) => `${p.ref.kind}/${p.ref.name}`);
    if (deleted.length)
      this.o.recorder.event(app, 'Normal', 'Pruned', 'Prune', `deleted ${deleted.join(', ')} (no longer rendered)`);
    const released = pruned.filter((p) => p.action === 'released').map((p) => `${p.ref.kind}/${p.ref.name}`);
    if (released.length)
      this.o.recorder.event(
        app,
        'Normal',
        'Released',
        'Prune',
        `let go of ${released.join(', ')} (no longer rendered; shared with other Applications, which keep them)`,
      );
    return keep;
  }

  /** Writes status (its own field manager) when it changed; an Event when the phase changes. */
  private async status(app: VelaApplication, outcome: Outcome) {
    const next = composeStatus(app, outcome);
    if (next.status !== app.status?.status) {
      const bad = next.status === PHASES.failed || next.status === PHASES.unhealthy;
      this.o.recorder.event(
        app,
        bad ? 'Warning' : 'Normal',
        next.status ?? 'Phase',
        'Workflow',
        next.workflow?.message ?? next.status ?? '',
      );
    }
    if (statusChanged(app, next)) await writeStatus(this.o.kube, app, next);
    return outcome.run?.requeueAfter ? { requeueAfter: outcome.run.requeueAfter } : {};
  }

  private owner(app: VelaApplication): Owner {
    return {
      apiVersion: app.apiVersion,
      kind: app.kind,
      name: app.metadata.name!,
      namespace: app.metadata.namespace!,
      uid: app.metadata.uid!,
    };
  }
}

/** KubeVela's apply-once policy: hand edits stand until the Application or its revision changes (apply/'s epoch). */
function applyOnceEpoch(o: KubeObject, epoch: string): KubeObject {
  return {
    ...o,
    metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, [ANNOTATION_APPLY_ONCE]: epoch } },
  };
}

/**
 * KubeVela's two moments of applying, for apply-once rules' `affect`: `onUpdate` while the workflow of
 * a new revision runs (KubeVela's dispatch), `onStateKeep` once it finished (KubeVela's state keep,
 * which re-applies what drifted; here every later reconcile — a watched object changed, a re-sync).
 */
function stageOf(app: VelaApplication, revision: AppRevision): ApplyStage {
  const workflow = app.status?.workflow;
  return workflow?.appRevision === revision.metadata.name && workflow?.finished ? 'onStateKeep' : 'onUpdate';
}
