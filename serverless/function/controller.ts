import { Applier } from '../../apply/index.js';
import { Informer, type KubeClient } from '../../kube/index.js';
import type { Condition, KubeObject } from '../../kube/types.js';
import { isTrellisError, messageOf } from '../../lib/errors.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import { Router } from '../activator/router.js';
import type { EventRecorder } from '../events.js';
import { LABEL_FUNCTION } from '../labels.js';
import { WorkQueue } from '../work-queue.js';
import { FUNCTION_API_VERSION, FUNCTION_KIND, functionConfig, functionKey, type FunctionObject, type ScaleDefaults } from './config.js';
import { renderFunction, type Backend } from './render.js';

export interface FunctionControllerOptions {
  kube: KubeClient;
  /** @default 'kubernetes' */
  backend?: Backend;
  /** The activator's Host-routing domain, for `status.url`. @default 'fn.localhost' */
  domain?: string;
  /** The activator's port, for `status.url`. @default none (port 80) */
  activatorPort?: number;
  /** Watch one namespace. @default all */
  namespace?: string;
  scaleDefaults?: ScaleDefaults;
  events?: EventRecorder;
  logger?: Logger;
}

type Fn = FunctionObject & KubeObject;
type Deployment = KubeObject & { spec?: { replicas?: number }; status?: { replicas?: number; readyReplicas?: number } };
const FIELD_MANAGER = 'trellis-function-controller';

/**
 * Keeps each Function's Deployment and Service as rendered (server-side apply, owned by the
 * Function so they go when it goes; the Deployment's replicas are the autoscaler's) and reports in
 * its status where it is served, how many instances run and whether it can take requests.
 */
export class FunctionController {
  private readonly kube: KubeClient;
  private readonly applier: Applier;
  private readonly functions: Informer<Fn>;
  private readonly deployments: Informer<Deployment>;
  private readonly queue: WorkQueue;
  private readonly router: Router;
  private readonly logger: Logger;
  private readonly lastProblem = new Map<string, string>();

  constructor(private readonly options: FunctionControllerOptions) {
    this.kube = options.kube.withFieldManager(FIELD_MANAGER);
    this.applier = new Applier({ kube: this.kube });
    this.logger = options.logger ?? silentLogger;
    this.router = new Router({ ...(options.domain ? { domain: options.domain } : {}) });
    const ns = options.namespace ? { namespace: options.namespace } : {};
    this.functions = new Informer(this.kube, { apiVersion: FUNCTION_API_VERSION, kind: FUNCTION_KIND, logger: this.logger, ...ns });
    this.deployments = new Informer(this.kube, { apiVersion: 'apps/v1', kind: 'Deployment', labelSelector: LABEL_FUNCTION, resyncMs: 0, logger: this.logger, ...ns });
    this.queue = new WorkQueue((key) => this.reconcile(key), { onError: (key, err) => this.logger.warn({ function: key, err: messageOf(err) }, 'reconcile failed; retrying') });
  }

  async start(): Promise<void> {
    const enqueue = (o: KubeObject) => this.queue.add(functionKey(o.metadata.namespace!, o.metadata.name!));
    // Status writes (ours) change neither generation nor labels: they need no reconcile.
    const changed = (fn: Fn, old: Fn) => fn === old || fn.metadata.generation !== old.metadata.generation || JSON.stringify(fn.metadata.labels) !== JSON.stringify(old.metadata.labels);
    this.functions.on({ add: enqueue, update: (fn, old) => (changed(fn, old) ? enqueue(fn) : undefined) });
    const byOwner = (d: Deployment) => {
      const name = d.metadata.labels?.[LABEL_FUNCTION];
      if (name) this.queue.add(functionKey(d.metadata.namespace!, name));
    };
    this.deployments.on({ add: byOwner, update: byOwner, delete: byOwner });
    await Promise.all([this.functions.start(), this.deployments.start()]);
  }

  async stop(): Promise<void> {
    this.queue.stop();
    await Promise.all([this.functions.stop(), this.deployments.stop()]);
  }

  /** Resolves when no reconcile is queued or running (tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private async reconcile(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    const fn = this.functions.get(name, namespace);
    if (!fn || fn.metadata.deletionTimestamp) return;
    const object = `Function/${key}`;
    let objects: KubeObject[];
    try {
      functionConfig(fn, this.options.scaleDefaults);
      objects = renderFunction(fn, { backend: this.options.backend ?? 'kubernetes', ...(this.options.scaleDefaults ? { scaleDefaults: this.options.scaleDefaults } : {}) });
    } catch (err) {
      if (!isTrellisError(err)) throw err;
      const reason = err.code === 'TRL_FUNCTION_NO_IMAGE' ? 'NoImage' : 'Invalid';
      this.problem(fn, reason, err.message);
      await this.writeStatus(fn, { type: 'Ready', status: 'False', reason, message: err.message });
      return;
    }
    try {
      await this.applier.apply(objects, { apiVersion: FUNCTION_API_VERSION, kind: FUNCTION_KIND, name, namespace });
    } catch (err) {
      this.problem(fn, 'ApplyFailed', messageOf(err));
      await this.writeStatus(fn, { type: 'Ready', status: 'False', reason: 'ApplyFailed', message: messageOf(err) });
      throw err;
    }
    this.lastProblem.delete(key);
    this.logger.debug({ function: key, object }, 'applied');
    await this.writeStatus(fn, this.readiness(fn));
  }

  private readiness(fn: Fn): Condition {
    const d = this.deployments.get(fn.metadata.name!, fn.metadata.namespace);
    const ready = d?.status?.readyReplicas ?? 0;
    if (ready > 0) return { type: 'Ready', status: 'True', reason: 'Serving', message: `${ready} instance(s) ready` };
    if ((d?.spec?.replicas ?? 1) === 0) return { type: 'Ready', status: 'True', reason: 'ScaledToZero', message: 'no instance runs; the activator starts one for the next request' };
    return { type: 'Ready', status: 'False', reason: 'Starting', message: 'waiting for the first instance to become ready' };
  }

  private problem(fn: Fn, reason: string, message: string): void {
    const key = functionKey(fn.metadata.namespace!, fn.metadata.name!);
    if (this.lastProblem.get(key) === message) return;
    this.lastProblem.set(key, message);
    this.options.events?.record({ apiVersion: FUNCTION_API_VERSION, kind: FUNCTION_KIND, name: fn.metadata.name!, namespace: fn.metadata.namespace!, ...(fn.metadata.uid ? { uid: fn.metadata.uid } : {}) }, 'Warning', reason, message);
  }

  private async writeStatus(fn: Fn, ready: Condition): Promise<void> {
    const name = fn.metadata.name!;
    const namespace = fn.metadata.namespace!;
    const d = this.deployments.get(name, namespace);
    const previous = fn.status?.conditions?.find((c) => c.type === 'Ready');
    const sameCondition = previous && previous.status === ready.status && previous.reason === ready.reason && previous.message === ready.message;
    const condition = { ...ready, lastTransitionTime: previous && previous.status === ready.status && previous.lastTransitionTime ? previous.lastTransitionTime : new Date().toISOString().replace(/\.\d+Z$/, 'Z'), observedGeneration: fn.metadata.generation ?? 0 };
    const status = {
      observedGeneration: fn.metadata.generation ?? 0,
      conditions: [condition],
      url: this.router.url(namespace, name, this.options.activatorPort),
      path: `/${namespace}/${name}/`,
      replicas: d?.status?.replicas ?? 0,
      readyReplicas: d?.status?.readyReplicas ?? 0,
      desiredReplicas: d?.spec?.replicas ?? 0,
      workload: d ? [{ apiVersion: 'apps/v1', kind: 'Deployment', name }, { apiVersion: 'v1', kind: 'Service', name }] : [],
    };
    const current = fn.status ?? {};
    if (sameCondition && current.observedGeneration === status.observedGeneration && current.url === status.url && current.replicas === status.replicas && current.readyReplicas === status.readyReplicas && current.desiredReplicas === status.desiredReplicas) return;
    await this.kube.applyStatus({ apiVersion: FUNCTION_API_VERSION, kind: FUNCTION_KIND, metadata: { name, namespace }, status });
  }
}
