import { ANNOTATION_OUTPUT, LABEL_APP_NAME, LABEL_COMPONENT, LABEL_RESOURCE_TYPE, LABEL_REVISION } from '../../apis/labels.js';
import { isConflict, isNotFound, type Informer, type KubeClient, type KubeObject } from '../../kube/index.js';
import { TrellisError, isTrellisError } from '../../lib/errors.js';
import type { EventRecorder, ReconcileContext, Reconciler, Request } from '../../runtime/index.js';
import { setCondition } from '../../status/conditions.js';
import { objectHealth, type Health } from '../../status/health.js';
import { measure, type QueryVariables } from './analysis.js';
import { commandsOf } from './commands.js';
import { analysisDue, transition, type RolloutEvent } from './machine.js';
import type { RolloutMetrics } from './metrics.js';
import { PrometheusClient } from './prometheus.js';
import { desiredRoutes } from './route.js';
import { plannedSteps } from './steps.js';
import { HTTP_ROUTE, ROLLOUT_FIELD_MANAGER, type MetricResult, type Rollout, type RolloutStatus } from './types.js';

/** The kinds the reconciler reads live objects of, watched once asked for (events wake the Rollouts concerned). */
export interface RolloutWatches {
  /** The informer of a workload kind (objects labelled `app.oam.dev/name`), started on first use. */
  workloads(apiVersion: string, kind: string): Promise<Informer<KubeObject>>;
  /** Starts watching HTTPRoutes (once the Gateway API CRDs are served), so edits to them are undone. */
  routes(): Promise<void>;
}

export interface RolloutReconcilerOptions {
  /** Client with the rollout controller's field manager. */
  kube: KubeClient;
  recorder: EventRecorder;
  watches: RolloutWatches;
  /** Prometheus to query when a Rollout's analysis names none. */
  prometheusAddress?: string;
  metrics?: RolloutMetrics;
  /** The time. @default () => new Date() */
  clock?: () => Date;
}

/** The shortest wait before looking again, so a due timer never spins. */
const MIN_REQUEUE_MS = 100;

const GATEWAY_API_HINT = 'install the Gateway API CRDs: kubectl apply --server-side -f https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.6.3/standard-install.yaml';

/**
 * Moves a Rollout one transition at a time: observe (the new revision's health, the stable one's
 * workload, commands, measurements when due) → decide ({@link transition}) → write the routes →
 * write the status (a compare-and-swap on resourceVersion, so a decision is never made twice) →
 * Events. Reads the Rollout from the API server, not the cache: its status is the state machine's
 * memory and must be the latest.
 */
export class RolloutReconciler implements Reconciler {
  constructor(private readonly o: RolloutReconcilerOptions) {}

  async reconcile(ctx: ReconcileContext, req: Request) {
    const rollout = await this.o.kube.getOrNull<Rollout>({ apiVersion: 'delivery.trellis.dev/v1alpha1', kind: 'Rollout', name: req.name, namespace: req.namespace });
    if (!rollout || rollout.metadata.deletionTimestamp || !rollout.spec) return {}; // owner references take its routes with it
    const now = (this.o.clock ?? (() => new Date()))();
    const ref = rollout.spec.workloadRef;
    if (!ref) return this.fail(rollout, 'NoWorkload', new TrellisError('TRL_ROLLOUT_WORKLOAD', 'no workloadRef yet (the ApplicationConfiguration writes it)', { object: id(rollout), field: 'spec.workloadRef' }));
    if (!rollout.spec.port) {
      return this.fail(rollout, 'NoPort', new TrellisError('TRL_ROLLOUT_PORT', 'no port to route to: the workload renders no Service; set the trait\'s `port`', { object: id(rollout), field: 'spec.port' }));
    }
    const workloads = await this.o.watches.workloads(ref.apiVersion, ref.kind);
    const find = (revision: string | undefined) => (revision ? revisionWorkload(workloads, rollout, revision) : undefined);
    const status = rollout.status ?? {};
    const measurements = analysisDue(rollout.spec, status, now) ? await this.measure(rollout, status, now) : undefined;
    const next = transition(
      rollout.spec,
      status,
      { now, canary: health(find(rollout.spec.revision)), stableRunning: !!find(status.stableRevision), commands: commandsOf(rollout), ...(measurements ? { measurements } : {}) },
      { app: rollout.metadata.labels?.[LABEL_APP_NAME] ?? rollout.metadata.name!, component: rollout.spec.component },
    );
    try {
      await this.writeRoutes(rollout, next.status);
    } catch (err) {
      if (!isTrellisError(err)) throw err; // the API server: retry with backoff
      return this.fail(rollout, err.code === 'TRL_ROLLOUT_GATEWAY_API' ? 'GatewayAPIMissing' : 'RouteFailed', err, 30_000);
    }
    const written = await this.writeStatus(rollout, withConditions(rollout, next.status, now));
    if (!written) return { requeueAfter: MIN_REQUEUE_MS }; // changed meanwhile: decide again on the latest
    if (measurements) this.o.metrics?.measured(measurements);
    for (const e of next.events) this.record(rollout, e);
    if (next.events.length) ctx.logger.info({ rollout: id(rollout), events: next.events.map((e) => e.reason), phase: next.status.phase }, 'rollout moved');
    return next.requeueAfterMs !== undefined ? { requeueAfter: Math.max(MIN_REQUEUE_MS, next.requeueAfterMs) } : {};
  }

  private async measure(rollout: Rollout, status: RolloutStatus, now: Date): Promise<MetricResult[]> {
    const address = rollout.spec!.analysis?.prometheus?.address ?? this.o.prometheusAddress;
    const vars: QueryVariables = {
      revision: status.canaryRevision ?? '',
      stableRevision: status.stableRevision ?? '',
      component: rollout.spec!.component,
      app: rollout.metadata.labels?.[LABEL_APP_NAME] ?? '',
      namespace: rollout.metadata.namespace ?? '',
    };
    if (!address) {
      const message = 'no Prometheus to ask: set analysis.prometheus.address, or start the controller with --prometheus-address';
      return (rollout.spec!.analysis?.metrics ?? []).map((m) => ({ name: m.name, phase: 'Inconclusive' as const, message }));
    }
    return measure(rollout.spec!, new PrometheusClient({ address }), vars, now);
  }

  /** Applies the main route (and the blue-green preview route while previewing; deletes it otherwise). */
  private async writeRoutes(rollout: Rollout, status: RolloutStatus): Promise<void> {
    await this.o.kube.mapper.resolve(HTTP_ROUTE.apiVersion, HTTP_ROUTE.kind).catch((err: unknown) => {
      throw new TrellisError('TRL_ROLLOUT_GATEWAY_API', `HTTPRoute (${HTTP_ROUTE.apiVersion}) is not served: ${GATEWAY_API_HINT}`, { object: id(rollout), cause: err });
    });
    await this.o.watches.routes();
    const step = status.canaryRevision && status.abortedRevision !== status.canaryRevision ? plannedSteps(rollout.spec!)[status.currentStep ?? 0] : undefined;
    const previewing = step?.preview && status.stepStartedAt ? status.canaryRevision : undefined;
    const routes = desiredRoutes(rollout, status.weights ?? [], previewing);
    await this.applyOwned(rollout, routes.main);
    if (routes.preview) await this.applyOwned(rollout, routes.preview);
    else await this.deleteOwned(rollout, routes.previewName);
  }

  /** Server-side apply, but never onto a route someone else made (TRL_ROLLOUT_ROUTE_TAKEN). */
  private async applyOwned(rollout: Rollout, route: KubeObject): Promise<void> {
    const live = await this.o.kube.getOrNull({ ...HTTP_ROUTE, name: route.metadata.name!, namespace: route.metadata.namespace! });
    if (live && !controlledBy(live, rollout)) {
      throw new TrellisError('TRL_ROLLOUT_ROUTE_TAKEN', `HTTPRoute ${route.metadata.name} exists and is not controlled by this Rollout (uid ${rollout.metadata.uid}); name another with the trait's route.name`, { object: id(rollout), field: 'spec.route.name' });
    }
    await this.o.kube.apply(route, { fieldManager: ROLLOUT_FIELD_MANAGER });
  }

  private async deleteOwned(rollout: Rollout, name: string): Promise<void> {
    const live = await this.o.kube.getOrNull({ ...HTTP_ROUTE, name, namespace: rollout.metadata.namespace! });
    if (live && controlledBy(live, rollout)) await this.o.kube.delete({ ...HTTP_ROUTE, name, namespace: rollout.metadata.namespace! }, { preconditions: { uid: live.metadata.uid! } });
  }

  /** Status with the Ready condition saying what blocks the Rollout; retried later (or on the next change). */
  private async fail(rollout: Rollout, reason: string, err: TrellisError, requeueAfter?: number) {
    const now = (this.o.clock ?? (() => new Date()))();
    const status = { ...rollout.status, conditions: setCondition(rollout.status?.conditions as never, { type: 'Ready', status: 'False', reason, message: err.message, observedGeneration: rollout.metadata.generation }, now) };
    const before = rollout.status?.conditions?.find((c) => c.type === 'Ready');
    if (before?.reason !== reason || before.message !== err.message) this.o.recorder.event(rollout, 'Warning', reason, 'Rollout', err.message);
    await this.writeStatus(rollout, status);
    return requeueAfter ? { requeueAfter } : {};
  }

  /** Writes the status if it changed, only onto the resourceVersion it was decided from; false on a conflict. */
  private async writeStatus(rollout: Rollout, status: RolloutStatus): Promise<boolean> {
    if (JSON.stringify(withoutTimes(status)) === JSON.stringify(withoutTimes(rollout.status ?? {}))) return true;
    try {
      await this.o.kube.applyStatus({ apiVersion: rollout.apiVersion, kind: rollout.kind, metadata: { name: rollout.metadata.name, namespace: rollout.metadata.namespace, resourceVersion: rollout.metadata.resourceVersion }, status }, { fieldManager: ROLLOUT_FIELD_MANAGER });
      return true;
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) return false;
      throw err;
    }
  }

  /** On the Rollout; the milestones also on its ApplicationConfiguration, where people look first. */
  private record(rollout: Rollout, e: RolloutEvent): void {
    this.o.metrics?.transition(e.reason);
    this.o.recorder.event(rollout, e.type, e.reason, 'Rollout', e.message);
    const owner = rollout.metadata.ownerReferences?.find((r) => r.controller);
    if (!owner || !['Started', 'Completed', 'RolledBack', 'Aborted'].includes(e.reason)) return;
    const app: KubeObject = { apiVersion: owner.apiVersion, kind: owner.kind, metadata: { name: owner.name, namespace: rollout.metadata.namespace, uid: owner.uid } };
    this.o.recorder.event(app, e.type, `Rollout${e.reason}`, 'Rollout', `component ${rollout.spec!.component}: ${e.message}`);
  }
}

function id(rollout: Rollout): string {
  return `Rollout/${rollout.metadata.namespace}/${rollout.metadata.name}`;
}

function controlledBy(obj: KubeObject, rollout: Rollout): boolean {
  return !!obj.metadata.ownerReferences?.some((r) => r.controller && r.uid === rollout.metadata.uid);
}

/** The workload a revision runs: same app and component, that revision, the workload itself (not an output). */
function revisionWorkload(workloads: Informer<KubeObject>, rollout: Rollout, revision: string): KubeObject | undefined {
  const app = rollout.metadata.labels?.[LABEL_APP_NAME];
  return workloads.list().find((o) => {
    const l = o.metadata.labels ?? {};
    return o.metadata.namespace === rollout.metadata.namespace && l[LABEL_APP_NAME] === app && l[LABEL_COMPONENT] === rollout.spec!.component && l[LABEL_REVISION] === revision && l[LABEL_RESOURCE_TYPE] === 'WORKLOAD' && !o.metadata.annotations?.[ANNOTATION_OUTPUT] && !o.metadata.deletionTimestamp;
  });
}

function health(workload: KubeObject | undefined): Health {
  return workload ? objectHealth(workload) : { status: 'UNKNOWN', message: 'its workload does not exist yet' };
}

/** Conditions from the phase: Ready (False after a rollback or abort) and Progressing (True while a rollout runs). */
function withConditions(rollout: Rollout, status: RolloutStatus, now: Date): RolloutStatus {
  const phase = status.phase ?? 'Healthy';
  const failed = phase === 'RolledBack' || phase === 'Aborted';
  const running = phase === 'Progressing' || phase === 'Paused';
  let conditions = setCondition(status.conditions as never, { type: 'Ready', status: failed ? 'False' : 'True', reason: phase, message: status.message ?? '', observedGeneration: rollout.metadata.generation }, now);
  conditions = setCondition(conditions, { type: 'Progressing', status: running ? 'True' : 'False', reason: phase, message: status.nextAction ?? '', observedGeneration: rollout.metadata.generation }, now);
  return { ...status, observedGeneration: rollout.metadata.generation, conditions };
}

/** The status without the times that change on every write, to tell a real change from none. */
function withoutTimes(status: RolloutStatus): unknown {
  return { ...status, conditions: (status.conditions ?? []).map(({ lastTransitionTime: _t, ...c }) => c) };
}
