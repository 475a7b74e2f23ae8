import { writeStatus } from '../../status/write.js';
import type { ApplicationConfiguration, Component } from '../types.js';
import { STATUS_FIELD_MANAGER } from '../field-managers.js';
import { type Informer, type KubeClient, type KubeObject } from '../../kube/index.js';
import type { EventRecorder, Indexer, ReconcileContext, Reconciler, Request } from '../../runtime/index.js';
import { ensureRevision } from './ensure.js';
import { LABEL_REVISION_HASH, revisionsToPrune, type ComponentRevision } from './revisions.js';

export interface ComponentReconcilerOptions {
  kube: KubeClient;
  components: Informer<Component>;
  /** ControllerRevisions of Components, indexed by `<namespace>/<component>`. */
  revisions: Indexer<ComponentRevision>;
  /** AppConfigs indexed by `<namespace>/<revision name>` for every revision they reference. */
  revisionUsers: Indexer<ApplicationConfiguration>;
  recorder: EventRecorder;
  /** Revisions kept per Component, counting the newest; referenced ones are never deleted, even beyond it. @default 10 */
  revisionHistoryLimit?: number;
}

type ComponentObject = Component & { metadata: { name: string; namespace: string; uid: string } };

/**
 * Keeps a Component's revision history: a ControllerRevision `<component>-v<N>` for every change of
 * its spec (metadata-only edits create none), `status.latestRevision` naming the newest, and at
 * most `revisionHistoryLimit` old revisions — never deleting one an AppConfig still references.
 */
export class ComponentReconciler implements Reconciler {
  private readonly limit: number;
  /** The status last written from each cached Component (see writeStatus's `written`). */
  private readonly written = new WeakMap<KubeObject, KubeObject>();

  constructor(private readonly o: ComponentReconcilerOptions) {
    this.limit = o.revisionHistoryLimit ?? 10;
  }

  async reconcile(ctx: ReconcileContext, req: Request) {
    const component = this.o.components.get(req.name, req.namespace) as ComponentObject | undefined;
    if (!component || component.metadata.deletionTimestamp) return {}; // its revisions go with it (owner references)
    const latest = await this.ensureRevision(ctx, component);
    await this.writeStatus(component, latest);
    await this.pruneHistory(ctx, component, latest);
    return {};
  }

  /** The revision holding the current spec, created when the spec changed since the newest one. */
  private async ensureRevision(ctx: ReconcileContext, component: ComponentObject): Promise<ComponentRevision> {
    const { revision, created } = await ensureRevision(component, {
      kube: this.o.kube,
      cached: this.o.revisions.get(`${component.metadata.namespace}/${component.metadata.name}`),
      recorder: this.o.recorder,
    });
    if (created) ctx.logger.info({ revision: revision.metadata.name }, 'created component revision');
    return revision;
  }

  private async writeStatus(component: ComponentObject, latest: ComponentRevision): Promise<void> {
    const status = {
      observedGeneration: component.metadata.generation,
      latestRevision: {
        name: latest.metadata.name,
        revision: latest.revision,
        revisionHash: latest.metadata.labels?.[LABEL_REVISION_HASH],
      },
    };
    await writeStatus(this.o.kube, component, status, { fieldManager: STATUS_FIELD_MANAGER, written: this.written });
  }

  private async pruneHistory(
    ctx: ReconcileContext,
    component: ComponentObject,
    latest: ComponentRevision,
  ): Promise<void> {
    const ns = component.metadata.namespace;
    const all = this.o.revisions.get(`${ns}/${component.metadata.name}`);
    if (!all.some((r) => r.metadata.name === latest.metadata.name)) all.push(latest);
    if (all.length <= this.limit) return;
    const referenced = new Set(
      all.map((r) => r.metadata.name!).filter((name) => this.o.revisionUsers.get(`${ns}/${name}`).length > 0),
    );
    for (const old of revisionsToPrune(all, this.limit, referenced)) {
      const deleted = await this.o.kube
        .delete(
          { apiVersion: 'apps/v1', kind: 'ControllerRevision', name: old.metadata.name!, namespace: ns },
          { preconditions: { uid: old.metadata.uid! } },
        )
        .catch((err: unknown) => {
          if ((err as { statusCode?: number }).statusCode !== 409) throw err;
          return false;
        });
      if (deleted)
        ctx.logger.info({ revision: old.metadata.name }, 'pruned component revision beyond the history limit');
    }
  }
}

/** Every revision name an AppConfig references: pinned entries, running workloads, kept history workloads. */
export function referencedRevisions(app: ApplicationConfiguration): string[] {
  return [
    ...(app.spec?.components ?? []).flatMap((c) => (c.revisionName ? [c.revisionName] : [])),
    ...(app.status?.workloads ?? []).flatMap((w) => (w.componentRevisionName ? [w.componentRevisionName] : [])),
    ...(app.status?.historyWorkloads ?? []).flatMap((h) => (h.revision ? [h.revision] : [])),
  ];
}
