import { LABEL_APP_NAME, LABEL_COMPONENT, LABEL_MANAGED_BY, MANAGED_BY } from '../../apis/labels.js';
import type { KubeObject } from '../../kube/types.js';
import { HTTP_ROUTE, type RevisionWeight, type Rollout } from './types.js';

/** The HTTPRoutes a Rollout wants now: the main one, and a blue-green preview one while previewing. */
export interface DesiredRoutes {
  main: KubeObject;
  /** Present only while a blue-green preview runs (and `previewHostnames` are set). */
  preview?: KubeObject;
  /** The name the preview route has when it exists (to delete it otherwise). */
  previewName: string;
}

/** The main route's name: `spec.route.name`, else the component's. */
export function routeName(rollout: Rollout): string {
  return rollout.spec?.route?.name || rollout.spec?.component || rollout.metadata.name!;
}

/**
 * The HTTPRoute(s) sending each revision its weight: one rule matching `spec.route.path`, a
 * backendRef per revision — its Service, named after the revision (`web-v2`), at `spec.port` — and
 * `parentRefs` / `hostnames` as given. Owned by the Rollout, so they go when the trait goes.
 */
export function desiredRoutes(
  rollout: Rollout,
  weights: RevisionWeight[],
  previewing: string | undefined,
): DesiredRoutes {
  const spec = rollout.spec!;
  const name = routeName(rollout);
  const route = (routeName: string, backends: RevisionWeight[], hostnames: string[] | undefined): KubeObject => ({
    apiVersion: HTTP_ROUTE.apiVersion,
    kind: HTTP_ROUTE.kind,
    metadata: {
      name: routeName,
      namespace: rollout.metadata.namespace,
      labels: {
        ...(rollout.metadata.labels?.[LABEL_APP_NAME]
          ? { [LABEL_APP_NAME]: rollout.metadata.labels[LABEL_APP_NAME] }
          : {}),
        [LABEL_COMPONENT]: spec.component,
        [LABEL_MANAGED_BY]: MANAGED_BY,
      },
      ownerReferences: [
        {
          apiVersion: rollout.apiVersion,
          kind: rollout.kind,
          name: rollout.metadata.name!,
          uid: rollout.metadata.uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      ...(spec.route?.parentRefs?.length ? { parentRefs: spec.route.parentRefs } : {}),
      ...(hostnames?.length ? { hostnames } : {}),
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: spec.route?.path ?? '/' } }],
          backendRefs: backends.map((w) => ({ name: w.revision, port: spec.port, weight: w.weight })),
        },
      ],
    },
  });
  const previewName = `${name}-preview`;
  const previewHosts = spec.blueGreen?.previewHostnames;
  return {
    main: route(name, weights, spec.route?.hostnames),
    ...(previewing && previewHosts?.length
      ? { preview: route(previewName, [{ revision: previewing, weight: 100 }], previewHosts) }
      : {}),
    previewName,
  };
}

/** The weights a route carries now, by revision (from its first rule), to tell people what is served. */
export function routeWeights(route: KubeObject | undefined): RevisionWeight[] {
  const rules = (route?.spec as { rules?: { backendRefs?: { name?: string; weight?: number }[] }[] } | undefined)
    ?.rules;
  return (rules?.[0]?.backendRefs ?? []).map((b) => ({ revision: b.name ?? '', weight: b.weight ?? 1 }));
}
