import { LABEL_APP_NAME } from '../../apis/labels.js';
import { isConflict, isNotFound, type Informer, type KubeClient, type KubeObject } from '../../kube/index.js';
import { TrellisError, isTrellisError } from '../../lib/errors.js';
import type { EventRecorder, ReconcileContext, Reconciler, Request } from '../../runtime/index.js';
import { setCondition } from '../../status/conditions.js';
import { measureWindow, snapshotOf, type Snapshot } from './activator-metrics.js';
import { measure, type MetricSources, type QueryVariables } from './analysis.js';
import { FAILURE_REASONS, type TrafficBackend } from './backend.js';
import { commandsOf } from './commands.js';
import { FUNCTION_KIND, functionBackend } from './function-backend.js';
import { analysisDue, transition, type RolloutEvent } from './machine.js';
import type { RolloutMetrics } from './metrics.js';
import { PrometheusClient } from './prometheus.js';
import { routeBackend } from './route-backend.js';
import { plannedSteps } from './steps.js';
import { ROLLOUT_FIELD_MANAGER, type Rollout, type RolloutStatus } from './types.js';

/** The kinds the reconciler reads live objects of, watched once asked for (events wake the Rollouts concerned). */
export interface RolloutWatches {
  /** The informer of a workload kind (objects labelled `app.oam.dev/name`), started on first use. */
  workloads(apiVersion: string, kind: string): Promise<Informer<KubeObject>>;
  /** The FunctionRevisions' informer, started on first use. */
  functionRevisions(): Promise<Informer<KubeObject>>;
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
  /** The text of every activator's `/metrics` (functions' `activator` measures). @default none */
  activatorMetrics?: () => Promise<string[]>;
  metrics?: RolloutMetrics;
  /** The time. @default () => new Date() */
  clock?: () => Date;
}

/** The shortest wait before looking again, so a due timer never spins. */
const MIN_REQUEUE_MS = 100;

/**
 * Moves a Rollout one transition at a time: observe (the new revision's health, the stable one's
 * workload, commands, measurements when due) → decide ({@link transition}) → make the traffic so
 * (an HTTPRoute, or a Function's split) → write the status (a compare-and-swap on resourceVersion,
 * so a decision is never made twice) → Events. Reads the Rollout from the API server, not the
 * cache: its status is the state machine's memory and must be the latest.
 */
export class RolloutReconciler implements Reconciler {
  /** The activator counters each analysed step was last sampled at, by `<uid>/<revision>/<attempt>/<step>`. */
  private readonly samples = new Map<string, Snapshot>();

  constructor(private readonly o: RolloutReconcilerOptions) {}

  async reconcile(ctx: ReconcileContext, req: Request) {
    const rollout = await this.o.kube.getOrNull<Rollout>({
      apiVersion: 'delivery.trellis.dev/v1alpha1',
      kind: 'Rollout',
      name: req.name,
      namespace: req.namespace,
    });
    if (!rollout || rollout.metadata.deletionTimestamp || !rollout.spec) return {}; // owner references take its routes with it
    const now = this.now();
    const backend = await this.backend(rollout);
    if (backend instanceof TrellisError)
      return this.fail(rollout, backend.code === 'TRL_ROLLOUT_PORT' ? 'NoPort' : 'NoWorkload', backend);
    const spec = { ...rollout.spec, ...(backend.target ? { revision: backend.target } : {}) };
    if (!backend.target) delete spec.revision;
    const status = rollout.status ?? {};
    const measurements = analysisDue(spec, status, now)
      ? await measure(spec, this.sources(rollout, status, backend), variables(rollout, status), now)
      : undefined;
    const next = transition(
      spec,
      status,
      {
        now,
        canary: backend.health(spec.revision),
        stableRunning: backend.exists(status.stableRevision),
        commands: commandsOf(rollout),
        ...(backend.waiting ? { waiting: backend.waiting } : {}),
        ...(measurements ? { measurements } : {}),
      },
      { app: rollout.metadata.labels?.[LABEL_APP_NAME] ?? rollout.metadata.name!, component: rollout.spec.component },
    );
    try {
      await backend.write(next.status);
    } catch (err) {
      if (!isTrellisError(err)) throw err; // the API server: retry with backoff
      return this.fail(rollout, FAILURE_REASONS[err.code] ?? 'TrafficFailed', err, 30_000);
    }
    const written = await this.writeStatus(rollout, withConditions(rollout, next.status, now));
    if (!written) return { requeueAfter: MIN_REQUEUE_MS }; // changed meanwhile: decide again on the latest
    if (measurements) this.o.metrics?.measured(measurements);
    for (const e of next.events) this.record(rollout, e);
    if (next.events.length)
      ctx.logger.info(
        { rollout: id(rollout), events: next.events.map((e) => e.reason), phase: next.status.phase },
        'rollout moved',
      );
    await this.sampleStepStart(rollout, spec, next.status, backend).catch((err: Error) =>
      ctx.logger.debug({ err: err.message }, 'no activator sample at the step start'),
    );
    return next.requeueAfterMs !== undefined ? { requeueAfter: Math.max(MIN_REQUEUE_MS, next.requeueAfterMs) } : {};
  }

  private now(): Date {
    return (this.o.clock ?? (() => new Date()))();
  }

  /** A function's own revisions (its traffic split), or revision-named workloads behind an HTTPRoute. */
  private async backend(rollout: Rollout): Promise<TrafficBackend | TrellisError> {
    const ref = rollout.spec!.workloadRef;
    if (!ref)
      return new TrellisError('TRL_ROLLOUT_WORKLOAD', 'no workloadRef yet (the ApplicationConfiguration writes it)', {
        object: id(rollout),
        field: 'spec.workloadRef',
      });
    const workloads = await this.o.watches.workloads(ref.apiVersion, ref.kind);
    if (ref.apiVersion === FUNCTION_KIND.apiVersion && ref.kind === FUNCTION_KIND.kind) {
      return functionBackend({
        kube: this.o.kube,
        rollout,
        functions: workloads,
        revisions: await this.o.watches.functionRevisions(),
      });
    }
    if (!rollout.spec!.port)
      return new TrellisError(
        'TRL_ROLLOUT_PORT',
        "no port to route to: the workload renders no Service; set the trait's `port`",
        { object: id(rollout), field: 'spec.port' },
      );
    return routeBackend({ kube: this.o.kube, rollout, workloads, watchRoutes: () => this.o.watches.routes() });
  }

  private sources(rollout: Rollout, status: RolloutStatus, backend: TrafficBackend): MetricSources {
    const address = rollout.spec!.analysis?.prometheus?.address ?? this.o.prometheusAddress;
    const series = status.canaryRevision ? backend.activatorSeries?.(status.canaryRevision) : undefined;
    const read = this.o.activatorMetrics;
    const key = sampleKey(rollout, status);
    let window: Promise<[Snapshot | undefined, Snapshot]> | undefined;
    return {
      ...(address ? { prometheus: new PrometheusClient({ address }) } : {}),
      ...(series && read
        ? {
            activator: async (m) => {
              // One read of the activators for all metrics of this measurement; the next window starts here.
              window ??= read().then((texts) => {
                const after = snapshotOf(texts, series);
                const before = this.samples.get(key);
                this.samples.set(key, after);
                return [before, after];
              });
              const [before, after] = await window;
              if (!before)
                throw new Error(
                  "no earlier sample of the activator's counters (the controller started since): the next measurement has one",
                );
              return measureWindow(m, before, after);
            },
          }
        : {}),
    };
  }

  /** When a step with activator measures starts, its counters are sampled, so the first window is the step's. */
  private async sampleStepStart(
    rollout: Rollout,
    spec: Rollout['spec'],
    status: RolloutStatus,
    backend: TrafficBackend,
  ): Promise<void> {
    const step = status.canaryRevision ? plannedSteps(spec!)[status.currentStep ?? 0] : undefined;
    const series = status.canaryRevision ? backend.activatorSeries?.(status.canaryRevision) : undefined;
    if (
      !step?.analysed ||
      !status.stepStartedAt ||
      !series ||
      !this.o.activatorMetrics ||
      !spec!.analysis?.metrics.some((m) => m.activator)
    )
      return;
    const key = sampleKey(rollout, status);
    if (this.samples.has(key)) return;
    for (const k of this.samples.keys()) if (k.startsWith(`${rollout.metadata.uid}/`)) this.samples.delete(k);
    this.samples.set(key, snapshotOf(await this.o.activatorMetrics(), series));
  }

  /** Status with the Ready condition saying what blocks the Rollout; retried later (or on the next change). */
  private async fail(rollout: Rollout, reason: string, err: TrellisError, requeueAfter?: number) {
    const status = {
      ...rollout.status,
      conditions: setCondition(
        rollout.status?.conditions as never,
        {
          type: 'Ready',
          status: 'False',
          reason,
          message: err.message,
          observedGeneration: rollout.metadata.generation,
        },
        this.now(),
      ),
    };
    const before = rollout.status?.conditions?.find((c) => c.type === 'Ready');
    if (before?.reason !== reason || before.message !== err.message)
      this.o.recorder.event(rollout, 'Warning', reason, 'Rollout', err.message);
    await this.writeStatus(rollout, status);
    return requeueAfter ? { requeueAfter } : {};
  }

  /** Writes the status if it changed, only onto the resourceVersion it was decided from; false on a conflict. */
  private async writeStatus(rollout: Rollout, status: RolloutStatus): Promise<boolean> {
    if (JSON.stringify(withoutTimes(status)) === JSON.stringify(withoutTimes(rollout.status ?? {}))) return true;
    try {
      await this.o.kube.applyStatus(
        {
          apiVersion: rollout.apiVersion,
          kind: rollout.kind,
          metadata: {
            name: rollout.metadata.name,
            namespace: rollout.metadata.namespace,
            resourceVersion: rollout.metadata.resourceVersion,
          },
          status,
        },
        { fieldManager: ROLLOUT_FIELD_MANAGER },
      );
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
    const app: KubeObject = {
      apiVersion: owner.apiVersion,
      kind: owner.kind,
      metadata: { name: owner.name, namespace: rollout.metadata.namespace, uid: owner.uid },
    };
    this.o.recorder.event(
      app,
      e.type,
      `Rollout${e.reason}`,
      'Rollout',
      `component ${rollout.spec!.component}: ${e.message}`,
    );
  }
}

function id(rollout: Rollout): string {
  return `Rollout/${rollout.metadata.namespace}/${rollout.metadata.name}`;
}

function sampleKey(rollout: Rollout, status: RolloutStatus): string {
  return `${rollout.metadata.uid}/${status.canaryRevision}/${status.attempt ?? 1}/${status.currentStep ?? 0}`;
}

function variables(rollout: Rollout, status: RolloutStatus): QueryVariables {
  return {
    revision: status.canaryRevision ?? '',
    stableRevision: status.stableRevision ?? '',
    component: rollout.spec!.component,
    app: rollout.metadata.labels?.[LABEL_APP_NAME] ?? '',
    namespace: rollout.metadata.namespace ?? '',
  };
}

/** Conditions from the phase: Ready (False after a rollback or abort) and Progressing (True while a rollout runs). */
function withConditions(rollout: Rollout, status: RolloutStatus, now: Date): RolloutStatus {
  const phase = status.phase ?? 'Healthy';
  const failed = phase === 'RolledBack' || phase === 'Aborted';
  const running = phase === 'Progressing' || phase === 'Paused';
  let conditions = setCondition(
    status.conditions as never,
    {
      type: 'Ready',
      status: failed ? 'False' : 'True',
      reason: phase,
      message: status.message ?? '',
      observedGeneration: rollout.metadata.generation,
    },
    now,
  );
  conditions = setCondition(
    conditions,
    {
      type: 'Progressing',
      status: running ? 'True' : 'False',
      reason: phase,
      message: status.nextAction ?? '',
      observedGeneration: rollout.metadata.generation,
    },
    now,
  );
  return { ...status, observedGeneration: rollout.metadata.generation, conditions };
}

/** The status without the times that change on every write, to tell a real change from none. */
function withoutTimes(status: RolloutStatus): unknown {
  return { ...status, conditions: (status.conditions ?? []).map(({ lastTransitionTime: _t, ...c }) => c) };
}
