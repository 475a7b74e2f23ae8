import type { KubeObject } from '../kube/types.js';

export type HealthStatus = 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';

/** The health of one object, with a message a person can act on (`1/3 ready`). */
export interface Health {
  status: HealthStatus;
  message: string;
}

type Status = Record<string, unknown> & {
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
};
const num = (v: unknown, fallback = 0): number => (typeof v === 'number' ? v : fallback);
const healthy = (message: string): Health => ({ status: 'HEALTHY', message });
const unhealthy = (message: string): Health => ({ status: 'UNHEALTHY', message });

function rolloutPending(obj: KubeObject, status: Status): Health | undefined {
  const generation = obj.metadata.generation;
  if (generation !== undefined && num(status.observedGeneration, -1) < generation)
    return unhealthy(`rollout of generation ${generation} not observed yet`);
  return undefined;
}

const RULES: Record<string, (obj: KubeObject, status: Status, spec: Record<string, unknown>) => Health> = {
  Deployment(obj, status, spec) {
    const desired = num(spec.replicas, 1);
    const pending = rolloutPending(obj, status);
    if (pending) return pending;
    const updated = num(status.updatedReplicas);
    const ready = num(status.readyReplicas);
    const available = num(status.availableReplicas);
    if (desired === 0) return healthy('scaled to zero');
    if (updated < desired) return unhealthy(`${updated}/${desired} replicas updated`);
    if (ready < desired || available < desired) return unhealthy(`${ready}/${desired} ready`);
    return healthy(`${ready}/${desired} ready`);
  },
  StatefulSet(obj, status, spec) {
    const desired = num(spec.replicas, 1);
    const pending = rolloutPending(obj, status);
    if (pending) return pending;
    const ready = num(status.readyReplicas);
    if (ready < desired) return unhealthy(`${ready}/${desired} ready`);
    if (status.updateRevision && status.currentRevision !== status.updateRevision)
      return unhealthy(`rolling out ${String(status.updateRevision)}`);
    return healthy(desired === 0 ? 'scaled to zero' : `${ready}/${desired} ready`);
  },
  DaemonSet(obj, status) {
    const pending = rolloutPending(obj, status);
    if (pending) return pending;
    const desired = num(status.desiredNumberScheduled);
    const ready = num(status.numberReady);
    return ready < desired ? unhealthy(`${ready}/${desired} ready`) : healthy(`${ready}/${desired} ready`);
  },
  ReplicaSet(_obj, status, spec) {
    const desired = num(spec.replicas, 1);
    const ready = num(status.readyReplicas);
    return ready < desired ? unhealthy(`${ready}/${desired} ready`) : healthy(`${ready}/${desired} ready`);
  },
  Job(_obj, status) {
    const cond = (type: string) => status.conditions?.find((c) => c.type === type && c.status === 'True');
    const failed = cond('Failed');
    if (failed) return unhealthy(`failed: ${failed.message ?? failed.reason ?? 'Failed'}`);
    if (cond('Complete')) return healthy(`completed (${num(status.succeeded)} succeeded)`);
    const active = num(status.active);
    const ready = num(status.ready);
    if (active > 0 && ready >= active) return healthy(`running (${active} active)`);
    return unhealthy(active > 0 ? `${ready}/${active} pods ready` : 'no pod running yet');
  },
  Pod(_obj, status) {
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    if (status.phase === 'Succeeded') return healthy('succeeded');
    return ready?.status === 'True'
      ? healthy('ready')
      : unhealthy(`${String(status.phase ?? 'Pending')}${ready?.message ? `: ${ready.message}` : ''}`);
  },
  PersistentVolumeClaim(_obj, status) {
    return status.phase === 'Bound' ? healthy('bound') : unhealthy(`${String(status.phase ?? 'Pending')}`);
  },
  HorizontalPodAutoscaler(_obj, status) {
    const able = status.conditions?.find((c) => c.type === 'AbleToScale');
    return able?.status === 'False'
      ? unhealthy(`cannot scale: ${able.message ?? able.reason ?? ''}`)
      : healthy(`${num(status.currentReplicas)} replicas`);
  },
};

/** True for kinds judged by their state (Deployments, Jobs, ...) rather than by existing. */
export function hasHealthRule(kind: string): boolean {
  return kind in RULES;
}

/** Kinds that are healthy by existing. */
const PASSIVE = new Set([
  'Service',
  'ConfigMap',
  'Secret',
  'ServiceAccount',
  'Role',
  'RoleBinding',
  'ClusterRole',
  'ClusterRoleBinding',
  'Ingress',
  'NetworkPolicy',
  'PodDisruptionBudget',
  'EndpointSlice',
  'CronJob',
]);

/**
 * The health of a live object by its kind: Deployments, StatefulSets, DaemonSets and ReplicaSets
 * by ready replicas of the current generation; Jobs by completion; Pods by readiness; other
 * objects by a `Ready` condition when they have one. Objects with no rule are healthy while they
 * exist (KubeVela's default when a definition has no health policy). A missing object is UNKNOWN.
 *
 * @example
 *   objectHealth(deployment)   // { status: 'UNHEALTHY', message: '1/3 ready' }
 */
export function objectHealth(obj: KubeObject | undefined): Health {
  if (!obj) return { status: 'UNKNOWN', message: 'not found' };
  if (obj.metadata.deletionTimestamp) return unhealthy('being deleted');
  const status = (obj.status ?? {}) as Status;
  const spec = (obj.spec ?? {}) as Record<string, unknown>;
  const rule = RULES[obj.kind];
  if (rule) return rule(obj, status, spec);
  if (PASSIVE.has(obj.kind)) return healthy('exists');
  const ready = status.conditions?.find((c) => c.type === 'Ready');
  if (ready)
    return ready.status === 'True'
      ? healthy(ready.message || 'ready')
      : unhealthy(ready.message || ready.reason || 'not ready');
  return healthy('exists');
}

/** Several healths as one: UNHEALTHY if any is, else UNKNOWN if any is, else HEALTHY; messages joined. */
export function combineHealth(parts: { name: string; health: Health }[]): Health {
  if (!parts.length) return healthy('nothing to check');
  const bad = parts.filter((p) => p.health.status !== 'HEALTHY');
  const status: HealthStatus = bad.some((p) => p.health.status === 'UNHEALTHY')
    ? 'UNHEALTHY'
    : bad.length
      ? 'UNKNOWN'
      : 'HEALTHY';
  const shown = bad.length ? bad : parts;
  return {
    status,
    message: shown.map((p) => (parts.length === 1 ? p.health.message : `${p.name}: ${p.health.message}`)).join('; '),
  };
}
