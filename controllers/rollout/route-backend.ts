import {
  ANNOTATION_OUTPUT,
  LABEL_APP_NAME,
  LABEL_COMPONENT,
  LABEL_RESOURCE_TYPE,
  LABEL_REVISION,
} from '../../apis/labels.js';
import type { Informer, KubeClient, KubeObject } from '../../kube/index.js';
import { TrellisError } from '../../lib/errors.js';
import { objectHealth } from '../../status/health.js';
import type { TrafficBackend } from './backend.js';
import { desiredRoutes } from './route.js';
import { plannedSteps } from './steps.js';
import { HTTP_ROUTE, ROLLOUT_FIELD_MANAGER, type Rollout, type RolloutStatus } from './types.js';

const GATEWAY_API_HINT =
  'install the Gateway API CRDs: kubectl apply --server-side -f https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.6.3/standard-install.yaml';

export interface RouteBackendOptions {
  kube: KubeClient;
  rollout: Rollout;
  /** The workload kind's informer (objects labelled `app.oam.dev/name`). */
  workloads: Informer<KubeObject>;
  /** Starts watching HTTPRoutes (once served), so an edit to one is undone. */
  watchRoutes(): Promise<void>;
}

/**
 * Revision-named workloads (`web-v2`, each with its Service `web-v2`) behind a Gateway API
 * HTTPRoute owned by the Rollout: the target is the component revision the AppConfig runs now.
 */
export function routeBackend(o: RouteBackendOptions): TrafficBackend {
  const { rollout } = o;
  const find = (revision: string | undefined) =>
    revision ? revisionWorkload(o.workloads, rollout, revision) : undefined;
  return {
    target: rollout.spec!.revision,
    waiting: 'waiting for the component to have a revision (is the Component controller running?)',
    health: (revision) => {
      const w = find(revision);
      return w ? objectHealth(w) : { status: 'UNKNOWN', message: 'its workload does not exist yet' };
    },
    exists: (revision) => !!find(revision),
    write: (status) => writeRoutes(o, status),
  };
}

/** Applies the main route (and the blue-green preview route while previewing; deletes it otherwise). */
async function writeRoutes(o: RouteBackendOptions, status: RolloutStatus): Promise<void> {
  const { rollout, kube } = o;
  await kube.mapper.resolve(HTTP_ROUTE.apiVersion, HTTP_ROUTE.kind).catch((err: unknown) => {
    throw new TrellisError(
      'TRL_ROLLOUT_GATEWAY_API',
      `HTTPRoute (${HTTP_ROUTE.apiVersion}) is not served: ${GATEWAY_API_HINT}`,
      { object: id(rollout), cause: err },
    );
  });
  await o.watchRoutes();
  const step =
    status.canaryRevision && status.abortedRevision !== status.canaryRevision
      ? plannedSteps(rollout.spec!)[status.currentStep ?? 0]
      : undefined;
  const previewing = step?.preview && status.stepStartedAt ? status.canaryRevision : undefined;
  const routes = desiredRoutes(rollout, status.weights ?? [], previewing);
  await applyOwned(o, routes.main);
  if (routes.preview) await applyOwned(o, routes.preview);
  else await deleteOwned(o, routes.previewName);
}

/** Server-side apply, but never onto a route someone else made (TRL_ROLLOUT_ROUTE_TAKEN). */
async function applyOwned(o: RouteBackendOptions, route: KubeObject): Promise<void> {
  const live = await o.kube.getOrNull({
    ...HTTP_ROUTE,
    name: route.metadata.name!,
    namespace: route.metadata.namespace!,
  });
  if (live && !controlledBy(live, o.rollout)) {
    throw new TrellisError(
      'TRL_ROLLOUT_ROUTE_TAKEN',
      `HTTPRoute ${route.metadata.name} exists and is not controlled by this Rollout (uid ${o.rollout.metadata.uid}); name another with the trait's route.name`,
      { object: id(o.rollout), field: 'spec.route.name' },
    );
  }
  await o.kube.apply(route, { fieldManager: ROLLOUT_FIELD_MANAGER });
}

async function deleteOwned(o: RouteBackendOptions, name: string): Promise<void> {
  const ref = { ...HTTP_ROUTE, name, namespace: o.rollout.metadata.namespace! };
  const live = await o.kube.getOrNull(ref);
  if (live && controlledBy(live, o.rollout)) await o.kube.delete(ref, { preconditions: { uid: live.metadata.uid! } });
}

function controlledBy(obj: KubeObject, rollout: Rollout): boolean {
  return !!obj.metadata.ownerReferences?.some((r) => r.controller && r.uid === rollout.metadata.uid);
}

function id(rollout: Rollout): string {
  return `Rollout/${rollout.metadata.namespace}/${rollout.metadata.name}`;
}

/** The workload a revision runs: same app and component, that revision, the workload itself (not an output). */
function revisionWorkload(workloads: Informer<KubeObject>, rollout: Rollout, revision: string): KubeObject | undefined {
  const app = rollout.metadata.labels?.[LABEL_APP_NAME];
  return workloads.list().find((o) => {
    const l = o.metadata.labels ?? {};
    return (
      o.metadata.namespace === rollout.metadata.namespace &&
      l[LABEL_APP_NAME] === app &&
      l[LABEL_COMPONENT] === rollout.spec!.component &&
      l[LABEL_REVISION] === revision &&
      l[LABEL_RESOURCE_TYPE] === 'WORKLOAD' &&
      !o.metadata.annotations?.[ANNOTATION_OUTPUT] &&
      !o.metadata.deletionTimestamp
    );
  });
}
