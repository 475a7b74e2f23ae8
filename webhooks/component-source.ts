import type { Component } from '../apis/generated/core.oam.dev-v1alpha2.js';
import { Informer, type KubeClient, type KubeObject } from '../kube/index.js';
import type { ComponentSource, ResolvedComponent } from '../render/index.js';

/** The label the Component controller puts on a Component's revisions (apply/revisions.ts' LABEL_REVISION_COMPONENT). */
const LABEL_REVISION_COMPONENT = 'controller.oam.dev/component';

type RevisionObject = KubeObject & { data?: Component };

const resolvedComponent = (component: Component): ResolvedComponent => {
  const revisionName = component.status?.latestRevision?.name;
  return revisionName ? { component, revisionName } : { component };
};

/**
 * The Components of one namespace as render needs them, read from the API server at admission time
 * (fresh: a Component applied a moment ago is found): the current Component with its latest
 * revision, or the snapshot a ControllerRevision `<component>-v<N>` holds. Make one per review.
 */
export function clusterComponents(kube: KubeClient, namespace: string): ComponentSource {
  return oncePerReview({
    async component(name) {
      const component = await kube.getOrNull<Component & KubeObject>({
        apiVersion: 'core.oam.dev/v1alpha2',
        kind: 'Component',
        namespace,
        name,
      });
      return component ? resolvedComponent(component) : undefined;
    },
    async revision(revisionName) {
      const revision = await kube.getOrNull<RevisionObject>({
        apiVersion: 'apps/v1',
        kind: 'ControllerRevision',
        namespace,
        name: revisionName,
      });
      return revision?.data ? { component: revision.data, revisionName } : undefined;
    },
  });
}

/** One source serves one review: each Component or revision is looked up once however often render asks. */
function oncePerReview(source: ComponentSource): ComponentSource {
  const seen = new Map<string, Promise<ResolvedComponent | undefined>>();
  const once = (key: string, load: () => Promise<ResolvedComponent | undefined>) => {
    let found = seen.get(key);
    if (!found) seen.set(key, (found = load()));
    return found;
  };
  return {
    component: (name) => once(`c/${name}`, () => source.component(name)),
    revision: (name) => once(`r/${name}`, () => source.revision(name)),
  };
}

/**
 * Components and their revisions for admission, answered from watch caches (every namespace's
 * Components, and the ControllerRevisions labelled `controller.oam.dev/component`), so a review
 * costs no API round trip. A miss asks the API server ({@link clusterComponents}) and is never
 * remembered: a Component created a moment ago (earlier in the same `kubectl apply -f`) is found
 * before its watch event arrives. A Component *changed* a moment ago may still be the previous
 * version in the cache: callers confirm a denial with {@link live} (validate-appconfig does).
 *
 * @example
 *   const source = new AdmissionComponentSource({ kube }); await source.start()
 *   const components = source.of('shop')   // per review
 */
export class AdmissionComponentSource {
  private readonly kube: KubeClient;
  private readonly components: Informer<Component & KubeObject>;
  private readonly revisions: Informer<RevisionObject>;

  constructor(options: { kube: KubeClient }) {
    this.kube = options.kube;
    this.components = new Informer(options.kube, { apiVersion: 'core.oam.dev/v1alpha2', kind: 'Component' });
    this.revisions = new Informer(options.kube, {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      labelSelector: LABEL_REVISION_COMPONENT,
    });
  }

  /** Lists and watches; resolves once both caches are filled. */
  async start(): Promise<void> {
    await Promise.all([this.components.start(), this.revisions.start()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.components.stop(), this.revisions.stop()]);
  }

  /** The namespace's Components from the caches, a miss read live. Make one per review. */
  of(namespace: string): ComponentSource {
    let live: ComponentSource | undefined;
    const fallback = () => (live ??= clusterComponents(this.kube, namespace));
    return oncePerReview({
      component: async (name) => {
        const cached = this.components.get(name, namespace);
        return cached ? resolvedComponent(cached) : fallback().component(name);
      },
      revision: async (revisionName) => {
        const cached = this.revisions.get(revisionName, namespace);
        return cached?.data ? { component: cached.data, revisionName } : fallback().revision(revisionName);
      },
    });
  }

  /** The namespace's Components read from the API server, bypassing the caches. Make one per review. */
  live(namespace: string): ComponentSource {
    return clusterComponents(this.kube, namespace);
  }
}
