/**
 * What the controller's informer caches hold, by kind: the size of every object of a kind in a
 * namespace as JSON (an informer keeps them parsed: their heap is a few times that), and the part
 * of it that is `metadata.managedFields` (what controller-runtime's `TransformStripManagedFields`
 * would drop). A guide to the controller's memory (BENCH_RECONCILE_CACHE_SIZES=1).
 */
import type { KubeClient } from '../../kube/index.js';

const KINDS = [
  ['core.oam.dev/v1alpha2', 'ApplicationConfiguration'],
  ['core.oam.dev/v1alpha2', 'Component'],
  ['apps/v1', 'ControllerRevision'],
  ['apps/v1', 'Deployment'],
  ['v1', 'Service'],
  ['networking.k8s.io/v1', 'Ingress'],
] as const;

/** Report lines: per kind, objects, JSON size, of which managedFields. */
export async function cacheSizes(kube: KubeClient, namespace: string): Promise<string[]> {
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
  const lines: string[] = [];
  let all = 0;
  let managed = 0;
  for (const [apiVersion, kind] of KINDS) {
    const { items } = await kube.list(apiVersion, kind, { namespace });
    const size = items.reduce((n, o) => n + JSON.stringify(o).length, 0);
    const fields = items.reduce((n, o) => n + JSON.stringify(o.metadata.managedFields ?? []).length, 0);
    all += size;
    managed += fields;
    lines.push(
      `    ${kind.padEnd(26)} ${String(items.length).padStart(5)} objects: ${mib(size)} as JSON, managedFields ${mib(fields)}`,
    );
  }
  lines.push(`    together                                   ${mib(all)} as JSON, managedFields ${mib(managed)}`);
  return lines;
}
