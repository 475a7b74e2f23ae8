/**
 * Duck typing for pods: where a workload keeps its pod template, whatever its kind. Traits that add
 * sidecars, env or volumes write their patch against the Deployment shape (`spec.template`); bind/
 * moves it to wherever this finds the pod template.
 */
import { parseFieldPath, getFieldPath, type PathSegment } from '../lib/fieldpath.js';
import { isRecord } from '../lib/is-record.js';

/** Paths where well-known kinds keep their pod template, checked in order. */
const KNOWN: PathSegment[][] = [
  ['spec', 'template'], // Deployment, StatefulSet, DaemonSet, ReplicaSet, Job
  ['spec', 'jobTemplate', 'spec', 'template'], // CronJob
];

/** A pod template is an object whose `spec.containers` is a list. */
function isPodTemplate(v: unknown): boolean {
  return isRecord(v) && isRecord(v.spec) && Array.isArray(v.spec.containers);
}

/**
 * The path of the workload's pod template (the object holding `metadata` and `spec` of the pods), or
 * `undefined` when it has none.
 *
 * @param podSpecPath the WorkloadDefinition's `podSpecPath` (path of the pod *spec*, e.g.
 *   `spec.jobTemplate.spec.template.spec`); its parent is the template. Without it: the known
 *   places, then a search by shape (an object with `spec.containers`), at most 6 levels deep.
 */
export function findPodTemplate(workload: Record<string, unknown>, podSpecPath?: string): PathSegment[] | undefined {
  if (podSpecPath) {
    const spec = parseFieldPath(podSpecPath);
    return spec.length ? spec.slice(0, -1) : undefined;
  }
  if (workload.kind === 'Pod' && isRecord(workload.spec)) return [];
  for (const path of KNOWN) if (isPodTemplate(getFieldPath(workload, path))) return path;
  return search(workload, [], 0);
}

function search(node: unknown, path: PathSegment[], depth: number): PathSegment[] | undefined {
  if (depth > 6 || !isRecord(node)) return undefined;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'metadata' || key === 'status') continue;
    if (isPodTemplate(value)) return [...path, key];
    const found = search(value, [...path, key], depth + 1);
    if (found) return found;
  }
  return undefined;
}
