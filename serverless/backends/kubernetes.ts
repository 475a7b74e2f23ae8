import { isConflict, isNotFound, sleep, type Informer, type KubeClient } from '../../kube/index.js';
import type { KubeObject } from '../../kube/types.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import { ANNOTATION_POD_DELETION_COST, LABEL_FUNCTION } from '../labels.js';

/** The informer {@link KubeScaler} reads. */
export const deploymentWatch = (namespace?: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  labelSelector: LABEL_FUNCTION,
  ...(namespace ? { namespace } : {}),
});

/** A pod the autoscaler drained and wants gone. */
export interface PodRef {
  name: string;
  uid: string;
}

/** How the autoscaler changes a function's instance count. */
export interface Scaler {
  /** The replicas the function's workload is set to, or undefined when it does not exist (yet). */
  replicas(key: string): number | undefined;
  /** Sets the replicas. */
  scale(key: string, replicas: number): Promise<void>;
  /** Before a scale-down: make these (drained) instances the ones the next scale-down removes. */
  markForRemoval(key: string, pods: PodRef[]): Promise<void>;
  /** After a scale-down: wait until these instances are going away; remove them if the platform kept them. */
  ensureRemoved(key: string, pods: PodRef[]): Promise<void>;
}

export interface KubeScalerOptions {
  kube: KubeClient;
  /** The functions' Deployments (labelled `serverless.trellis.dev/function`), from a started informer. */
  deployments: Informer;
  /** Field manager of the replicas writes. @default 'trellis-autoscaler' */
  fieldManager?: string;
  /** How long to wait for the ReplicaSet to remove a drained pod before deleting it. @default 5000 */
  removalTimeoutMs?: number;
  logger?: Logger;
}

const DEPLOYMENT = { apiVersion: 'apps/v1', kind: 'Deployment' };
const split = (key: string) => {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
};

/**
 * The production backend: a function's instances are its Deployment's pods. Replicas are written
 * through the Deployment's `scale` subresource; which pods a scale-down removes is steered with
 * `controller.kubernetes.io/pod-deletion-cost`, so the ReplicaSet removes exactly the instances the
 * activator drained — and a drained pod the ReplicaSet kept (because replicas went up again before
 * it acted) is deleted explicitly, since the activator will never route to it again.
 */
export class KubeScaler implements Scaler {
  private readonly kube: KubeClient;
  private readonly informer: Informer;
  private readonly written = new Map<string, { replicas: number; resourceVersion: string }>();
  private readonly logger: Logger;

  constructor(private readonly options: KubeScalerOptions) {
    this.kube = options.kube.withFieldManager(options.fieldManager ?? 'trellis-autoscaler');
    this.logger = options.logger ?? silentLogger;
    this.informer = options.deployments;
  }

  /** The cached Deployment of a function. */
  deployment(key: string): KubeObject | undefined {
    const { namespace, name } = split(key);
    return this.informer.get(name, namespace);
  }

  replicas(key: string): number | undefined {
    const deployment = this.deployment(key);
    if (!deployment) return undefined;
    const cached = (deployment.spec as { replicas?: number }).replicas ?? 1;
    const written = this.written.get(key);
    if (!written) return cached;
    // Our last write wins until the cache has caught up with it (or moved past it).
    if (
      deployment.metadata.resourceVersion === written.resourceVersion ||
      cached === written.replicas ||
      Number(deployment.metadata.resourceVersion) > Number(written.resourceVersion)
    ) {
      this.written.delete(key);
      return cached;
    }
    return written.replicas;
  }

  async scale(key: string, replicas: number): Promise<void> {
    const { namespace, name } = split(key);
    const scale = await this.kube.patch({ ...DEPLOYMENT, namespace, name }, { spec: { replicas } }, 'merge', 'scale');
    this.written.set(key, { replicas, resourceVersion: scale.metadata.resourceVersion ?? '' });
  }

  async markForRemoval(key: string, pods: PodRef[]): Promise<void> {
    const { namespace } = split(key);
    await Promise.all(
      pods.map(async (pod) => {
        try {
          await this.kube.patch(
            { apiVersion: 'v1', kind: 'Pod', namespace, name: pod.name },
            { metadata: { annotations: { [ANNOTATION_POD_DELETION_COST]: '-2147483647' } } },
            'merge',
          );
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }),
    );
  }

  async ensureRemoved(key: string, pods: PodRef[]): Promise<void> {
    const { namespace } = split(key);
    const deadline = Date.now() + (this.options.removalTimeoutMs ?? 5_000);
    let left = pods;
    while (left.length && Date.now() < deadline) {
      const states = await Promise.all(
        left.map(async (p) => ({
          p,
          pod: await this.kube.getOrNull({ apiVersion: 'v1', kind: 'Pod', namespace, name: p.name }),
        })),
      );
      left = states
        .filter(({ p, pod }) => pod && pod.metadata.uid === p.uid && !pod.metadata.deletionTimestamp)
        .map(({ p }) => p);
      if (left.length) await sleep(50);
    }
    for (const pod of left) {
      this.logger.info({ function: key, pod: pod.name }, 'the ReplicaSet kept a drained instance; deleting it');
      try {
        await this.kube.delete(
          { apiVersion: 'v1', kind: 'Pod', namespace, name: pod.name },
          { preconditions: { uid: pod.uid } },
        );
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    }
  }
}
