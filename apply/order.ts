import type { KubeObject } from '../kube/types.js';

/**
 * Apply order: what others depend on first (namespaces, CRDs, definitions, RBAC, configuration),
 * then everything else. Prune uses the reverse. Stable within a rank.
 */
const RANK: Record<string, number> = {
  Namespace: 0,
  CustomResourceDefinition: 1,
  WorkloadDefinition: 2,
  TraitDefinition: 2,
  ScopeDefinition: 2,
  ServiceAccount: 3,
  ClusterRole: 3,
  Role: 3,
  ClusterRoleBinding: 4,
  RoleBinding: 4,
  ConfigMap: 5,
  Secret: 5,
  PersistentVolumeClaim: 5,
  Component: 6,
  Service: 7,
};
const DEFAULT_RANK = 8;

export function applyRank(obj: Pick<KubeObject, 'kind'>): number {
  return RANK[obj.kind] ?? DEFAULT_RANK;
}

export function sortForApply<T extends Pick<KubeObject, 'kind'>>(objects: T[]): T[] {
  return objects
    .map((o, i) => ({ o, i }))
    .sort((a, b) => applyRank(a.o) - applyRank(b.o) || a.i - b.i)
    .map(({ o }) => o);
}
