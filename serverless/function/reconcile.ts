import { Applier } from '../../apply/index.js';
import type { Informer, KubeClient } from '../../kube/index.js';
import type { Condition, KubeObject } from '../../kube/types.js';
import { isTrellisError, messageOf } from '../../lib/errors.js';
import type { EventRecorder, ReconcileContext, Reconciler, Request, Result } from '../../runtime/index.js';
import { Router } from '../activator/router.js';
import type { FunctionObject, ScaleDefaults } from './config.js';
import { FUNCTION_KINDS, type FunctionKind } from './kinds.js';
import { renderFunction, type Backend } from './render.js';

export type FunctionResource = FunctionObject & KubeObject;
type Status = { observedGeneration?: number; conditions?: Condition[]; url?: string; replicas?: number; readyReplicas?: number; desiredReplicas?: number; workload?: unknown[] };
type Deployment = KubeObject & { spec?: { replicas?: number }; status?: { replicas?: number; readyReplicas?: number } };

export interface FunctionReconcilerOptions {
  /** Writes as field manager `trellis-function-controller`. */
  kube: KubeClient;
  /** The kind reconciled (Trellis' Function, or OpenFaaS'). @default Trellis' Function */
  kind?: FunctionKind;
  /** Objects of that kind. */
  functions: Informer;
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
}

export const FUNCTION_FIELD_MANAGER = 'trellis-function-controller';

/**
 * Keeps a Function's Deployment and Service as rendered (server-side apply, controlled by the
 * Function so they go when it goes; the Deployment's replicas are the autoscaler's) and reports in
 * its status where it is served, how many instances run, and whether it can take requests.
 * Invalid Functions get `Ready=False` with the reason and a Warning Event, and are not retried.
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
    let objects: KubeObject[];
    try {
      objects = renderFunction(this.kind.toFunction(obj), { backend: this.options.backend ?? 'kubernetes', owner, ...(this.options.scaleDefaults ? { scaleDefaults: this.options.scaleDefaults } : {}) });
    } catch (err) {
      if (!isTrellisError(err)) throw err;
      const reason = err.code === 'TRL_FUNCTION_NO_IMAGE' ? 'NoImage' : 'Invalid';
      this.options.recorder?.event(obj, 'Warning', reason, 'Render', err.message);
      await this.writeStatus(obj, { type: 'Ready', status: 'False', reason, message: err.message });
      return {};
    }
    try {
      await this.applier.apply(objects, { ...owner, name: req.name, ...(req.namespace ? { namespace: req.namespace } : {}) });
    } catch (err) {
      this.options.recorder?.event(obj, 'Warning', 'ApplyFailed', 'Apply', messageOf(err));
      await this.writeStatus(obj, { type: 'Ready', status: 'False', reason: 'ApplyFailed', message: messageOf(err) });
      throw err;
    }
    await this.writeStatus(obj, this.readiness(obj));
    return {};
  }

  private readiness(fn: KubeObject): Condition {
    const d = this.options.deployments.get(fn.metadata.name!, fn.metadata.namespace);
    const ready = d?.status?.readyReplicas ?? 0;
    if (ready > 0) return { type: 'Ready', status: 'True', reason: 'Serving', message: `${ready} instance(s) ready` };
    if ((d?.spec?.replicas ?? 1) === 0) return { type: 'Ready', status: 'True', reason: 'ScaledToZero', message: 'no instance runs; the activator starts one for the next request' };
    return { type: 'Ready', status: 'False', reason: 'Starting', message: 'waiting for the first instance to become ready' };
  }

  private async writeStatus(fn: KubeObject, ready: Condition): Promise<void> {
    const name = fn.metadata.name!;
    const namespace = fn.metadata.namespace!;
    const d = this.options.deployments.get(name, namespace);
    const current = (fn.status ?? {}) as Status;
    const previous = current.conditions?.find((c) => c.type === 'Ready');
    const unchanged = previous && previous.status === ready.status && previous.reason === ready.reason && previous.message === ready.message;
    const lastTransitionTime = previous && previous.status === ready.status && previous.lastTransitionTime ? previous.lastTransitionTime : new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const status = {
      observedGeneration: fn.metadata.generation ?? 0,
      conditions: [{ ...ready, lastTransitionTime, observedGeneration: fn.metadata.generation ?? 0 }],
      url: this.router.url(namespace, name, this.options.activatorPort),
      path: `/${namespace}/${name}/`,
      replicas: d?.status?.replicas ?? 0,
      readyReplicas: d?.status?.readyReplicas ?? 0,
      desiredReplicas: d?.spec?.replicas ?? 0,
      workload: d ? [{ apiVersion: 'apps/v1', kind: 'Deployment', name }, { apiVersion: 'v1', kind: 'Service', name }] : [],
    };
    const s = current;
    if (unchanged && s.observedGeneration === status.observedGeneration && s.url === status.url && s.replicas === status.replicas && s.readyReplicas === status.readyReplicas && s.desiredReplicas === status.desiredReplicas && (s.workload?.length ?? 0) === status.workload.length) return;
    await this.kube.applyStatus({ apiVersion: this.kind.apiVersion, kind: this.kind.kind, metadata: { name, namespace }, status });
  }
}
