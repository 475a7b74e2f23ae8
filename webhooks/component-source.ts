import type { Component } from '../apis/generated/core.oam.dev-v1alpha2.js';
import type { KubeClient, KubeObject } from '../kube/index.js';
import type { ComponentSource, ResolvedComponent } from '../render/index.js';

/**
 * The Components of one namespace as render needs them, read from the API server at admission time
 * (fresh: a Component applied a moment ago is found): the current Component with its latest
 * revision, or the snapshot a ControllerRevision `<component>-v<N>` holds. Make one per review.
 */
export function clusterComponents(kube: KubeClient, namespace: string): ComponentSource {
  // One source serves one review: each Component or revision is read once however often render asks.
  const seen = new Map<string, Promise<ResolvedComponent | undefined>>();
  const once = (key: string, load: () => Promise<ResolvedComponent | undefined>) => {
    let found = seen.get(key);
    if (!found) seen.set(key, (found = load()));
    return found;
  };
  const source = {
    async component(name: string): Promise<ResolvedComponent | undefined> {
      const component = await kube.getOrNull<Component & KubeObject>({
        apiVersion: 'core.oam.dev/v1alpha2',
        kind: 'Component',
        namespace,
        name,
      });
      if (!component) return undefined;
      const revisionName = component.status?.latestRevision?.name;
      return revisionName ? { component, revisionName } : { component };
    },
    async revision(revisionName: string): Promise<ResolvedComponent | undefined> {
      const revision = await kube.getOrNull<KubeObject & { data?: Component }>({
        apiVersion: 'apps/v1',
        kind: 'ControllerRevision',
        namespace,
        name: revisionName,
      });
      if (!revision?.data) return undefined;
      return { component: revision.data, revisionName };
    },
  };
  return {
    component: (name) => once(`c/${name}`, () => source.component(name)),
    revision: (name) => once(`r/${name}`, () => source.revision(name)),
  };
}
