import type { Component } from '../../controllers/types.js';
import type { KubeClient, KubeObject } from '../../kube/index.js';
import { eventually } from './namespace.js';

/**
 * A Component `name` whose workload is a Deployment of one container running `image` (labels
 * `app: <name>`); `metadata` adds to its own (labels, annotations).
 *
 * @example
 *   await kube.apply(deploymentComponent(ns.name, 'web', 'nginx:1'))
 */
export function deploymentComponent(
  namespace: string,
  name: string,
  image: string,
  metadata: Partial<KubeObject['metadata']> = {},
): KubeObject {
  return {
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'Component',
    metadata: { name, namespace, ...metadata },
    spec: {
      workload: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        spec: {
          selector: { matchLabels: { app: name } },
          template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image }] } },
        },
      },
    },
  };
}

/**
 * Applies a Component and waits until the Component controller names `revision` its latest
 * revision — how a test builds a revision history (web-v1, web-v2, …) to roll back through.
 *
 * @example
 *   await applyComponentRevision(kube, component('nginx:1.28'), 'web-v2')
 */
export async function applyComponentRevision(kube: KubeClient, component: KubeObject, revision: string): Promise<void> {
  const { name, namespace } = component.metadata;
  if (!name) throw new Error('applyComponentRevision: the Component needs metadata.name');
  await kube.apply(component);
  await eventually(
    async () =>
      (
        await kube.get<Component>({
          apiVersion: 'core.oam.dev/v1alpha2',
          kind: 'Component',
          name,
          ...(namespace ? { namespace } : {}),
        })
      ).status?.latestRevision?.name === revision,
    { what: `Component ${namespace ?? ''}/${name} at ${revision}` },
  );
}
