/**
 * What `trellis diff` renders with: the Components and definitions in the files, over those in the
 * cluster, with the revision names the controllers would give them.
 */
import type { ApplicationConfiguration, Component } from '../controllers/types.js';
import {
  LABEL_REVISION_HASH,
  revisionName,
  revisionNumber,
  specHash,
  type ComponentRevision,
} from '../controllers/component/revisions.js';
import {
  builtinCatalog,
  ClusterDefinitionSource,
  layeredSource,
  StaticDefinitionSource,
  type DefinitionSource,
} from '../definitions/index.js';
import type { KubeClient, KubeObject } from '../kube/index.js';
import type { ComponentSource } from '../render/index.js';

const isOam = (o: KubeObject, kind: string) => o.kind === kind && o.apiVersion.startsWith('core.oam.dev/');

/** Definitions in the files first, then the cluster's, then the built-in catalog (as the controllers see them, plus the files). */
export function diffDefinitions(kube: KubeClient, objects: KubeObject[]): DefinitionSource {
  return layeredSource(
    StaticDefinitionSource.fromObjects(objects),
    new ClusterDefinitionSource({ kube }),
    builtinCatalog(),
  );
}

/**
 * Components of `namespace`: the files' version when they hold one, else the cluster's. A Component
 * from the files keeps its live revision name when its spec is unchanged and gets the next one
 * (`web-v3` after `web-v2`) when it changed, as the Component controller would name it.
 */
export function diffComponents(kube: KubeClient, objects: KubeObject[], namespace: string): ComponentSource {
  const given = new Map(
    objects
      .filter((o) => isOam(o, 'Component') && o.metadata.namespace === namespace)
      .map((o) => [o.metadata.name!, o as unknown as Component]),
  );
  return {
    async component(name) {
      const live = await kube.getOrNull<Component>({
        apiVersion: 'core.oam.dev/v1alpha2',
        kind: 'Component',
        name,
        namespace,
      });
      const component = given.get(name) ?? live;
      if (!component) return undefined;
      const latest = live?.status?.latestRevision;
      if (latest?.name && latest.revisionHash === specHash(component.spec))
        return { component, revisionName: latest.name };
      return {
        component,
        revisionName: revisionName(name, (latest?.name ? (revisionNumber(latest.name, name) ?? 0) : 0) + 1),
      };
    },
    async revision(name) {
      const rev = await kube.getOrNull<ComponentRevision>({
        apiVersion: 'apps/v1',
        kind: 'ControllerRevision',
        name,
        namespace,
      });
      if (!rev?.data?.spec) return undefined;
      const labels = { [LABEL_REVISION_HASH]: rev.metadata.labels?.[LABEL_REVISION_HASH] ?? '' };
      return {
        component: {
          ...rev.data,
          apiVersion: 'core.oam.dev/v1alpha2',
          kind: 'Component',
          metadata: { ...rev.data.metadata, labels },
        } as Component,
        revisionName: name,
      };
    },
  };
}

/** The ApplicationConfigurations among the objects. */
export function appConfigsOf(objects: KubeObject[]): ApplicationConfiguration[] {
  return objects.filter((o) => isOam(o, 'ApplicationConfiguration')) as unknown as ApplicationConfiguration[];
}
