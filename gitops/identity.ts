import type { GitSync } from '../apis/generated/gitops.trellis.dev-v1alpha1.js';
import { serviceAccountUser, type KubeClient } from '../kube/index.js';

/** Who a GitSync acts as when it dry-runs, applies and prunes. */
export interface SyncIdentity {
  /** The client to write with: the controller's own, or one impersonating the ServiceAccount. */
  kube: KubeClient;
  /** The ServiceAccount impersonated; absent when the controller acts as itself. */
  serviceAccount?: { namespace: string; name: string };
  /** Where the ServiceAccount's name came from. */
  source?: 'spec.serviceAccountName' | 'the controller default (--gitops-default-service-account)';
  /** For messages, e.g. `ServiceAccount team-a/deployer`. */
  description: string;
}

/**
 * The identity of one GitSync: `spec.serviceAccountName`, else the controller's default
 * ServiceAccount name (Flux's `--default-service-account`), both looked up in the GitSync's own
 * namespace — a GitSync can never act as a ServiceAccount of another namespace. Without either,
 * the controller acts as itself.
 *
 * @example
 *   const id = syncIdentity(kube, gs, 'gitops-default')
 *   new Syncer({ kube: id.kube, actor: id.description })
 */
export function syncIdentity(
  kube: KubeClient,
  gs: Pick<GitSync, 'metadata' | 'spec'>,
  defaultServiceAccount?: string,
): SyncIdentity {
  const namespace = gs.metadata.namespace!;
  const name = gs.spec.serviceAccountName || defaultServiceAccount;
  if (!name) return { kube, description: "the controller's own ServiceAccount" };
  return {
    kube: kube.impersonate(serviceAccountUser(namespace, name)),
    serviceAccount: { namespace, name },
    source: gs.spec.serviceAccountName
      ? 'spec.serviceAccountName'
      : 'the controller default (--gitops-default-service-account)',
    description: `ServiceAccount ${namespace}/${name}`,
  };
}

/** Whether the ServiceAccount exists (read with the controller's own client). */
export async function serviceAccountExists(
  kube: KubeClient,
  sa: { namespace: string; name: string },
): Promise<boolean> {
  return (await kube.getOrNull({ apiVersion: 'v1', kind: 'ServiceAccount', ...sa })) !== undefined;
}
