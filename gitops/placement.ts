import type { KubeObject } from '../kube/types.js';
import { TrellisError } from '../lib/errors.js';
import type { Manifest } from './manifests.js';

/** Where a sync may put objects. */
export interface NamespacePolicy {
  /** Namespace for namespaced objects that name none. */
  targetNamespace: string;
  /** Other namespaces a manifest may name. @default none */
  allowedNamespaces?: string[];
  /** Allow cluster-scoped objects (Namespace, CRDs, ClusterRole, ...). @default false */
  allowClusterScoped?: boolean;
}

/** `true` namespaced, `false` cluster-scoped, `undefined` not served. */
export type ScopeLookup = (apiVersion: string, kind: string) => Promise<boolean | undefined>;

/** Scopes of the kinds that CRDs in this same set define (their API does not exist yet). */
export function scopesFromCrds(manifests: Manifest[]): Map<string, boolean> {
  const scopes = new Map<string, boolean>();
  for (const { object } of manifests) {
    if (object.kind !== 'CustomResourceDefinition' || !object.apiVersion.startsWith('apiextensions.k8s.io/')) continue;
    const spec = object.spec as
      { group?: string; scope?: string; names?: { kind?: string }; versions?: { name: string }[] } | undefined;
    for (const v of spec?.versions ?? [])
      scopes.set(`${spec?.group}/${v.name}/${spec?.names?.kind}`, spec?.scope !== 'Cluster');
  }
  return scopes;
}

/**
 * Puts every manifest in its namespace and enforces the policy: a namespaced object without a
 * namespace goes to the target namespace; one naming another namespace is refused unless it is
 * allowed (`TRL_GITOPS_NAMESPACE`); a cluster-scoped object is refused unless the policy allows
 * them (`TRL_GITOPS_CLUSTER_SCOPED`); a kind the API server does not serve, and that no CRD in the
 * set defines, is refused (`TRL_GITOPS_UNKNOWN_KIND`). Refusals name the file and the object.
 */
export async function placeObjects(
  manifests: Manifest[],
  policy: NamespacePolicy,
  scopeOf: ScopeLookup,
): Promise<KubeObject[]> {
  const fromCrds = scopesFromCrds(manifests);
  const allowed = new Set([policy.targetNamespace, ...(policy.allowedNamespaces ?? [])]);
  const out: KubeObject[] = [];
  for (const { object, source } of manifests) {
    const name = `${object.kind} "${object.metadata.name}"`;
    let namespaced = fromCrds.get(`${object.apiVersion}/${object.kind}`);
    if (namespaced === undefined) namespaced = await scopeOf(object.apiVersion, object.kind);
    if (namespaced === undefined)
      throw new TrellisError(
        'TRL_GITOPS_UNKNOWN_KIND',
        `${name}: the API server does not serve kind "${object.kind}" in "${object.apiVersion}", and no CRD in this commit defines it`,
        { object: source },
      );
    if (!namespaced) {
      if (!policy.allowClusterScoped)
        throw new TrellisError(
          'TRL_GITOPS_CLUSTER_SCOPED',
          `${name} is cluster-scoped; set spec.allowClusterScoped on the GitSync to allow it`,
          { object: source },
        );
      const { namespace: _ignored, ...metadata } = object.metadata;
      out.push({ ...object, metadata });
      continue;
    }
    const namespace = object.metadata.namespace ?? policy.targetNamespace;
    if (!allowed.has(namespace))
      throw new TrellisError(
        'TRL_GITOPS_NAMESPACE',
        `${name} names namespace "${namespace}", outside the target namespace "${policy.targetNamespace}"; list it in spec.allowedNamespaces to allow it`,
        { object: source, field: 'metadata.namespace' },
      );
    out.push({ ...object, metadata: { ...object.metadata, namespace } });
  }
  return out;
}
