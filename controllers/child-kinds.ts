import type { Informer, KubeClient, KubeObject } from '../kube/index.js';
import { splitApiVersion } from '../kube/index.js';
import { DEFAULT_CHILD_KINDS, type ChildKind, type HealthReader } from '../status/workload-health.js';
import type { WorkloadDefinition } from './types.js';

/**
 * The kinds a workload of `apiVersion`/`kind` creates: `childResourceKinds` of the
 * WorkloadDefinition for its CRD (`<plural>.<group>`), else the built-in default
 * (ContainerizedWorkload → Deployment + Service), else none.
 */
export async function childKindsOf(
  kube: KubeClient,
  definitions: Informer<WorkloadDefinition>,
  apiVersion: string,
  kind: string,
): Promise<ChildKind[]> {
  const info = await kube.mapper.resolve(apiVersion, kind).catch(() => undefined);
  const group = splitApiVersion(apiVersion).group;
  const crdName = info ? `${info.resource}${group ? `.${group}` : ''}` : undefined;
  const definition = definitions
    .list()
    .find(
      (d) =>
        (d.spec?.definitionRef?.name === crdName || d.metadata.name === crdName) && d.spec?.childResourceKinds?.length,
    );
  return (
    definition?.spec?.childResourceKinds?.map((c) => ({ apiVersion: c.apiVersion, kind: c.kind })) ??
    DEFAULT_CHILD_KINDS[kind] ??
    []
  );
}

/** A {@link HealthReader} listing children from the API server. */
export function apiHealthReader(kube: KubeClient): HealthReader {
  return {
    async children(kind, namespace, ownerUid) {
      const { items } = await kube
        .list<KubeObject>(kind.apiVersion, kind.kind, { namespace })
        .catch(() => ({ items: [] as KubeObject[] }));
      return items.filter((o) => o.metadata.ownerReferences?.some((r) => r.controller && r.uid === ownerUid));
    },
  };
}
