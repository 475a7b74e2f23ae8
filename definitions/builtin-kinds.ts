/**
 * Kinds every cluster serves (and Trellis' own), so definitions and shorthands resolve offline: the
 * CLI renders without a cluster, and a cluster source answers these without discovery.
 */
import { API_VERSION as OAM, RESOURCES as OAM_RESOURCES } from '../apis/generated/core.oam.dev-v1alpha2.js';
import { groupOf } from '../lib/api-version.js';
import type { ResourceKind } from './types.js';

const BUILTIN: [string, string, string, boolean?][] = [
  // [apiVersion, kind, plural, namespaced = true]
  ['v1', 'Pod', 'pods'],
  ['v1', 'Service', 'services'],
  ['v1', 'ConfigMap', 'configmaps'],
  ['v1', 'Secret', 'secrets'],
  ['v1', 'PersistentVolumeClaim', 'persistentvolumeclaims'],
  ['v1', 'ServiceAccount', 'serviceaccounts'],
  ['v1', 'ReplicationController', 'replicationcontrollers'],
  ['apps/v1', 'Deployment', 'deployments'],
  ['apps/v1', 'StatefulSet', 'statefulsets'],
  ['apps/v1', 'DaemonSet', 'daemonsets'],
  ['apps/v1', 'ReplicaSet', 'replicasets'],
  ['batch/v1', 'Job', 'jobs'],
  ['batch/v1', 'CronJob', 'cronjobs'],
  ['autoscaling/v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers'],
  ['networking.k8s.io/v1', 'Ingress', 'ingresses'],
  ['networking.k8s.io/v1', 'NetworkPolicy', 'networkpolicies'],
  ['policy/v1', 'PodDisruptionBudget', 'poddisruptionbudgets'],
  ['v1', 'Namespace', 'namespaces', false],
  ['rbac.authorization.k8s.io/v1', 'Role', 'roles'],
  ['rbac.authorization.k8s.io/v1', 'RoleBinding', 'rolebindings'],
  ['rbac.authorization.k8s.io/v1', 'ClusterRole', 'clusterroles', false],
  ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'clusterrolebindings', false],
  ['apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'customresourcedefinitions', false],
];

function resourceName(apiVersion: string, plural: string): string {
  const group = groupOf(apiVersion);
  return group ? `${plural}.${group}` : plural;
}

/** Built-in kinds that have `spec.replicas` (and a scale subresource), by `<group>/<kind>`. */
const SCALABLE = new Set(['apps/Deployment', 'apps/StatefulSet', 'apps/ReplicaSet', '/ReplicationController']);

/**
 * Whether objects of this kind have `spec.replicas` even when an object leaves it out: Deployment,
 * StatefulSet, ReplicaSet, ReplicationController.
 *
 * @example
 *   isScalableKind('v1', 'ReplicationController')   // true
 *   isScalableKind('apps/v1', 'DaemonSet')          // false
 */
export function isScalableKind(apiVersion: string, kind: string): boolean {
  return SCALABLE.has(`${groupOf(apiVersion)}/${kind}`);
}

/**
 * `example.com/v1` `Foo` → `foos.example.com`: the lowercase plural a CRD would most likely use, for
 * kinds nobody described.
 */
export function guessResourceName(apiVersion: string, kind: string): string {
  const lower = kind.toLowerCase();
  const plural = /(s|x|z|ch|sh)$/.test(lower)
    ? `${lower}es`
    : /[^aeiou]y$/.test(lower)
      ? `${lower.slice(0, -1)}ies`
      : `${lower}s`;
  return resourceName(apiVersion, plural);
}

/** Built-in Kubernetes kinds and the core.oam.dev kinds of Trellis' own CRDs. */
export function builtinKinds(): ResourceKind[] {
  const kinds: ResourceKind[] = BUILTIN.map(([apiVersion, kind, plural, namespaced]) => ({
    apiVersion,
    kind,
    name: resourceName(apiVersion, plural),
    namespaced: namespaced ?? true,
  }));
  for (const [kind, { plural, namespaced }] of Object.entries(OAM_RESOURCES)) {
    kinds.push({ apiVersion: OAM, kind, name: `${plural}.core.oam.dev`, namespaced });
  }
  return kinds;
}
