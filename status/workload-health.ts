import type { KubeObject } from '../kube/types.js';
import { combineHealth, hasHealthRule, objectHealth, type Health } from './health.js';

/** A kind a workload creates (a WorkloadDefinition's `childResourceKinds`). */
export interface ChildKind {
  apiVersion: string;
  kind: string;
}

/** How health is read: live objects, and the children a workload controls. */
export interface HealthReader {
  /** Objects of `kind` in `namespace` whose controller owner reference has `ownerUid`. */
  children(kind: ChildKind, namespace: string, ownerUid: string): Promise<KubeObject[]>;
}

/** Kinds whose health is judged from their children unless a definition says otherwise. */
export const DEFAULT_CHILD_KINDS: Record<string, ChildKind[]> = {
  ContainerizedWorkload: [
    { apiVersion: 'apps/v1', kind: 'Deployment' },
    { apiVersion: 'v1', kind: 'Service' },
  ],
};

/**
 * The health of a workload: of the objects it created when it has child kinds (a
 * ContainerizedWorkload is as healthy as its Deployment), else of the object itself.
 *
 * @example
 *   await workloadHealth(cw, DEFAULT_CHILD_KINDS.ContainerizedWorkload, reader)   // { status: 'UNHEALTHY', message: 'Deployment/web: 1/3 ready' }
 */
export async function workloadHealth(
  workload: KubeObject | undefined,
  childKinds: ChildKind[],
  reader: HealthReader,
): Promise<Health> {
  if (!workload) return { status: 'UNKNOWN', message: 'workload not found' };
  if (!childKinds.length) return objectHealth(workload);
  const parts: { name: string; health: Health }[] = [];
  for (const kind of childKinds) {
    for (const child of await reader.children(kind, workload.metadata.namespace ?? '', workload.metadata.uid ?? '')) {
      parts.push({ name: `${child.kind}/${child.metadata.name}`, health: objectHealth(child) });
    }
  }
  // A workload is not healthy before it created what runs it (its Service alone is not enough).
  const running = childKinds.filter((k) => hasHealthRule(k.kind));
  const missing = running.length && !parts.some((p) => running.some((k) => p.name.startsWith(`${k.kind}/`)));
  if (!parts.length || missing)
    return {
      status: 'UNHEALTHY',
      message: `${workload.kind}/${workload.metadata.name} has not created its ${(running.length ? running : childKinds).map((k) => k.kind).join(' or ')} yet`,
    };
  return combineHealth(parts);
}
