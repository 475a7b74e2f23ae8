import { API_VERSION } from '../apis/generated/gitops.trellis.dev-v1alpha1.js';
import type { KubeClient } from '../kube/client.js';
import type { KubeObject } from '../kube/types.js';

/**
 * The finalizer the GitSync controller puts on every GitSync, so that deleting one first cleans up
 * what it applied (prune, or let go of it) — see ADR 0005.
 */
export const GITSYNC_FINALIZER = 'gitops.trellis.dev/cleanup';

type Meta = Pick<KubeObject, 'metadata'>;

export function hasFinalizer(gs: Meta): boolean {
  return gs.metadata.finalizers?.includes(GITSYNC_FINALIZER) ?? false;
}

/**
 * Adds or removes the finalizer, leaving any other finalizer alone. A merge patch that carries
 * the resourceVersion read, so a concurrent change makes it fail with a conflict (retried) instead
 * of overwriting someone else's finalizers; it never creates a GitSync that is gone.
 */
async function setFinalizer(kube: KubeClient, gs: Meta, present: boolean): Promise<KubeObject> {
  const others = (gs.metadata.finalizers ?? []).filter((f) => f !== GITSYNC_FINALIZER);
  const finalizers = present ? [...others, GITSYNC_FINALIZER] : others;
  const ref = { apiVersion: API_VERSION, kind: 'GitSync', name: gs.metadata.name!, namespace: gs.metadata.namespace! };
  return kube.patch(
    ref,
    { metadata: { resourceVersion: gs.metadata.resourceVersion, finalizers: finalizers.length ? finalizers : null } },
    'merge',
  );
}

export const addFinalizer = (kube: KubeClient, gs: Meta): Promise<KubeObject> => setFinalizer(kube, gs, true);
export const removeFinalizer = (kube: KubeClient, gs: Meta): Promise<KubeObject> => setFinalizer(kube, gs, false);

/**
 * The escape hatch: the command that deletes a GitSync without any clean-up (what it applied stays
 * in place), for when the controller is gone or cannot clean up. Quoted in conditions and docs.
 */
export function releaseCommand(gs: Meta): string {
  return `kubectl patch gitsync ${gs.metadata.name} -n ${gs.metadata.namespace} --type=merge -p '{"metadata":{"finalizers":null}}'`;
}
