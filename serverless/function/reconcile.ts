import { Applier } from '../../apply/index.js';
import { isConflict, isNotFound, type Informer, type KubeClient } from '../../kube/index.js';
import type { Condition, KubeObject } from '../../kube/types.js';
import { isTrellisError, messageOf, TrellisError } from '../../lib/errors.js';
import type { EventRecorder, ReconcileContext, Reconciler, Request, Result } from '../../runtime/index.js';
import { setCondition } from '../../status/conditions.js';
import { Router } from '../activator/router.js';
import { ANNOTATION_REVISION_HASH, LABEL_REVISION } from '../labels.js';
import type { FunctionObject, ScaleDefaults } from './config.js';
import { FUNCTION_KINDS, type FunctionKind } from './kinds.js';
import {
  checkFunction,
  renderFunctionService,
  renderRevision,
  type Backend,
  type RenderFunctionOptions,
} from './render.js';
import { REVISION_KIND, type FunctionRevision } from './revision.js';
import {
  changedFields,
  DEFAULT_REVISION_HISTORY,
  deleteRevision,
  ensureLatestRevision,
  revisionsOf,
  revisionsToDelete,
  type RevisionState,
} from './revisions.js';
import {
  latestCondition,
  revisionStatus,
  sameStatus,
  servingCondition,
  totals,
  type FunctionStatus,
} from './status.js';
import { resolveTraffic, servedTargets, taggedName, type ServedTarget } from './traffic.js';

export type FunctionResource = FunctionObject & KubeObject;
type Deployment = NonNullable<RevisionState['deployment']>;

export interface FunctionReconcilerOptions {
  /** Writes as field manager `trellis-function-controller`. */
  kube: KubeClient;
  /** The kind reconciled (Trellis' Function, or OpenFaaS'). @default Trellis' Function */
  kind?: FunctionKind;
  /** Objects of that kind. */
  functions: Informer;
  /** FunctionRevisions (all, or of the namespace watched). */
  revisions: Informer<FunctionRevision & KubeObject>;
  /** Deployments labelled with the function's name. */
  deployments: Informer<Deployment>;
  recorder?: EventRecorder;
  /** @default 'kubernetes' */
  backend?: Backend;
  /** The activator's Host-routing domain, for `status.url`. @default 'fn.localhost' */
  domain?: string;
  /** The activator's port, for `status.url`. @default none (port 80) */
  activatorPort?: number;
  scaleDefaults?: ScaleDefaults;
  /** The queue-proxy sidecar for the kubernetes backend (render's option). @default none */
  queueProxy?: RenderFunctionOptions['queueProxy'];
}

export const FUNCTION_FIELD_MANAGER = 'trellis-function-controller';

/**
 * The Function controller (docs/adr/0012-function-revisions.md). Each pass:
 *   1. makes a FunctionRevision when what the pods run changed (`<name>-00001`, ...);
 *   2. applies every revision's Deployment and Service, and the Function's own Service;
 *   3. resolves `spec.traffic` against the revisions into `status.traffic` — what the activators
 *      route by, so an invalid split keeps the last good one serving;
 *   4. deletes revisions beyond `revisionHistoryLimit` that serve nothing and run no instance;
 *   5. writes the revisions' and the Function's status, and an Event for every change a person
 *      would want to know of.
 * An invalid Function gets `Ready=False` with the reason and a Warning Event, and is not retried;
 * nothing it already runs is touched.
 */
export class FunctionReconciler implements Reconciler {
  private readonly kube: KubeClient;
  private readonly applier: Applier;
  private readonly router: Router;
  private readonly kind: FunctionKind;

  constructor(private readonly options: FunctionReconcilerOptions) {
    this.kube = options.kube.withFieldManager(FUNCTION_FIELD_MANAGER);
    this.applier = new Applier({ kube: this.kube });
    this.router = new Router({ ...(options.domain ? { domain: options.domain } : {}) });
    this.kind = options.kind ?? FUNCTION_KINDS[0]!;
  }

  async reconcile(_ctx: ReconcileContext, req: Request): Promise<Result> {
    const obj = this.options.functions.get(req.name, req.namespace);
    if (!obj || obj.metadata.deletionTimestamp) return {};
    const owner = { apiVersion: this.kind.apiVersion, kind: this.kind.kind };
    const fn = this.kind.toFunction(obj);
    const render = {
      backend: this.options.backend ?? 'kubernetes',
      owner,
      ...(this.options.scaleDefaults ? { scaleDefaults: this.options.scaleDefaults } : {}),
      ...(this.options.queueProxy ? { queueProxy: this.options.queueProxy } : {}),
    } as const;
    let service: KubeObject;
    try {
      checkFunction(fn, render);
      service = renderFunctionService(fn, render);
    } catch (err) {
      if (!isTrellisError(err)) throw err;
      return this.refuse(obj, err);
    }

    const { revision: latest, created } = await ensureLatestRevision(
      this.kube,
      fn,
      revisionsOf(fn, this.options.revisions),
      owner,
    );
    const revisions = revisionsOf(fn, this.options.revisions).filter((r) => r.metadata.name !== latest.metadata.name);
    revisions.push(latest);
    if (created) this.announce(obj, revisions, latest);

    const objects = [service];
    for (const rev of revisions) if (!this.upToDate(rev)) objects.push(...renderRevision(fn, rev, render));
    let refused: string[];
    try {
      // No uid: the objects carry their own controller references (the Function, or its revision).
      const applied = await this.applier.apply(objects, {
        ...owner,
        name: req.name,
        ...(req.namespace ? { namespace: req.namespace } : {}),
      });
      refused = applied.flatMap((a) => (a.refusal ? [a.refusal.message] : []));
    } catch (err) {
      this.options.recorder?.event(obj, 'Warning', 'ApplyFailed', 'Apply', messageOf(err));
      await this.writeStatus(obj, {
        ...this.statusOf(obj),
        conditions: setCondition(this.statusOf(obj).conditions, {
          type: 'Ready',
          status: 'False',
          reason: 'ApplyFailed',
          message: messageOf(err),
        }),
      });
      throw err;
    }
    if (refused.length) {
      // Someone else's Deployment or Service of the function's name: left alone, and said so.
      const message = refused.join('; ');
      const before = this.statusOf(obj).conditions?.find((c) => c.type === 'Ready');
      if (before?.reason !== 'OwnershipConflict' || before.message !== message)
        this.options.recorder?.event(obj, 'Warning', 'OwnershipConflict', 'Apply', message);
      await this.writeStatus(obj, {
        ...this.statusOf(obj),
        conditions: setCondition(this.statusOf(obj).conditions, {
          type: 'Ready',
          status: 'False',
          reason: 'OwnershipConflict',
          message,
        }),
      });
      // The holder's object carries none of the labels this controller watches: look again later.
      return { requeueAfter: 30_000 };
    }
    await this.removeLegacyDeployment(obj);

    const states = revisions.map((r) => this.state(r));
    const latestReady = [...states].reverse().find((s) => s.everReady)?.name;
    const facts = {
      names: states.map((s) => s.name),
      latestCreated: latest.metadata.name!,
      ...(latestReady ? { latestReady } : {}),
    };
    let served: ServedTarget[];
    let trafficProblem: Condition | undefined;
    try {
      served = resolveTraffic(fn, facts);
    } catch (err) {
      if (!isTrellisError(err)) throw err;
      // Keep serving what was served; say why the new split is not.
      const before = servedTargets(this.statusOf(obj));
      served = before.length
        ? before
        : resolveTraffic({ ...fn, spec: { ...fn.spec, traffic: undefined } } as FunctionObject, facts);
      trafficProblem = {
        type: 'Ready',
        status: 'False',
        reason: 'TrafficInvalid',
        message: `${err.message}; still serving the previous split`,
      };
      this.options.recorder?.event(obj, 'Warning', 'TrafficInvalid', 'Route', err.message);
    }
    served = served.map((t) =>
      t.tag
        ? {
            ...t,
            url: this.router.url(
              fn.metadata.namespace!,
              taggedName(t.tag, fn.metadata.name!),
              this.options.activatorPort,
            ),
          }
        : t,
    );

    const keep = new Set([
      latest.metadata.name!,
      ...(latestReady ? [latestReady] : []),
      ...served.map((t) => t.revisionName),
      ...(fn.spec?.traffic ?? []).flatMap((t) => (t.revisionName ? [t.revisionName] : [])),
    ]);
    const doomed = revisionsToDelete(states, keep, fn.spec?.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY);
    for (const s of doomed) {
      await deleteRevision(this.kube, s);
      this.options.recorder?.event(
        obj,
        'Normal',
        'RevisionDeleted',
        'GarbageCollect',
        `deleted revision ${s.name}: it served nothing, ran no instance, and ${fn.spec?.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY} newer ones are kept`,
      );
    }
    const kept = states.filter((s) => !doomed.includes(s));
    for (const s of kept) await this.writeRevisionStatus(s, served);

    const previous = this.statusOf(obj);
    if (
      JSON.stringify(servedTargets(previous).map(({ url: _u, ...t }) => t)) !==
      JSON.stringify(served.map(({ url: _u, ...t }) => t))
    ) {
      this.options.recorder?.event(obj, 'Normal', 'TrafficChanged', 'Route', `serving ${describeTraffic(served)}`);
    }
    let conditions = setCondition(previous.conditions, trafficProblem ?? servingCondition(kept, served));
    conditions = setCondition(conditions, latestCondition(kept, latestReady));
    const name = fn.metadata.name!;
    const namespace = fn.metadata.namespace!;
    await this.writeStatus(obj, {
      observedGeneration: obj.metadata.generation ?? 0,
      conditions,
      url: this.router.url(namespace, name, this.options.activatorPort),
      path: `/${namespace}/${name}/`,
      ...totals(kept),
      latestCreatedRevisionName: latest.metadata.name!,
      ...(latestReady ? { latestReadyRevisionName: latestReady } : {}),
      traffic: served,
      workload: [
        { apiVersion: 'v1', kind: 'Service', name },
        ...kept.flatMap((s) => [
          { apiVersion: 'apps/v1', kind: 'Deployment', name: s.name },
          { apiVersion: 'v1', kind: 'Service', name: s.name },
        ]),
      ],
    });
    return {};
  }

  private async refuse(obj: KubeObject, err: TrellisError): Promise<Result> {
    const reason = err.code === 'TRL_FUNCTION_NO_IMAGE' ? 'NoImage' : 'Invalid';
    this.options.recorder?.event(obj, 'Warning', reason, 'Render', err.message);
    await this.writeStatus(obj, {
      ...this.statusOf(obj),
      conditions: setCondition(this.statusOf(obj).conditions, {
        type: 'Ready',
        status: 'False',
        reason,
        message: err.message,
      }),
    });
    return {};
  }

  private announce(obj: KubeObject, revisions: FunctionRevision[], latest: FunctionRevision): void {
    const before = revisions.length > 1 ? revisions[revisions.length - 2] : undefined;
    const changed = changedFields(before, latest);
    const why = before ? (changed.length ? `: ${changed.join(', ')} changed` : '') : ': the first one';
    this.options.recorder?.event(
      obj,
      'Normal',
      'RevisionCreated',
      'Revise',
      `created revision ${latest.metadata.name}${why}`,
    );
  }

  /** The revision's Deployment is cached with the revision's hash: nothing of it can have changed (a revision never does). */
  private upToDate(rev: FunctionRevision): boolean {
    const d = this.options.deployments.get(rev.metadata.name!, rev.metadata.namespace);
    return (
      !!d &&
      !d.metadata.deletionTimestamp &&
      d.metadata.annotations?.[ANNOTATION_REVISION_HASH] === rev.metadata.annotations?.[ANNOTATION_REVISION_HASH]
    );
  }

  private state(rev: FunctionRevision): RevisionState {
    const deployment = this.options.deployments.get(rev.metadata.name!, rev.metadata.namespace);
    const wasReady = rev.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    return {
      revision: rev,
      name: rev.metadata.name!,
      number: rev.spec.number,
      ...(deployment ? { deployment } : {}),
      everReady: wasReady || (deployment?.status?.readyReplicas ?? 0) > 0,
    };
  }

  /** A Deployment named after the Function itself is what Trellis ran before revisions: its instances now serve nothing. */
  private async removeLegacyDeployment(obj: KubeObject): Promise<void> {
    const legacy = this.options.deployments.get(obj.metadata.name!, obj.metadata.namespace);
    if (
      !legacy ||
      legacy.metadata.labels?.[LABEL_REVISION] ||
      !legacy.metadata.ownerReferences?.some((o) => o.uid === obj.metadata.uid)
    )
      return;
    await this.kube
      .delete(
        { apiVersion: 'apps/v1', kind: 'Deployment', namespace: obj.metadata.namespace!, name: obj.metadata.name! },
        { preconditions: { uid: legacy.metadata.uid! } },
      )
      .catch((err: unknown) => {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      });
  }

  private async writeRevisionStatus(s: RevisionState, served: ServedTarget[]): Promise<void> {
    const status = revisionStatus(s, served);
    if (sameStatus(s.revision.status, status)) return;
    await this.kube.applyStatus({
      apiVersion: s.revision.apiVersion,
      kind: REVISION_KIND,
      metadata: { name: s.name, namespace: s.revision.metadata.namespace },
      status,
    } as KubeObject);
  }

  private statusOf(obj: KubeObject): FunctionStatus {
    return (obj.status ?? {}) as FunctionStatus;
  }

  private async writeStatus(obj: KubeObject, status: FunctionStatus): Promise<void> {
    if (sameStatus(obj.status, status)) return;
    await this.kube.applyStatus({
      apiVersion: this.kind.apiVersion,
      kind: this.kind.kind,
      metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace },
      status,
    });
  }
}

/** `hello-00001 90 %, hello-00002 10 % (tag canary)` */
export function describeTraffic(served: ServedTarget[]): string {
  return served.map((t) => `${t.revisionName} ${t.percent} %${t.tag ? ` (tag ${t.tag})` : ''}`).join(', ');
}
