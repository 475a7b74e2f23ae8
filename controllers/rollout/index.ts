import { LABEL_APP_NAME, LABEL_COMPONENT } from '../../apis/labels.js';
import type { Informer, KubeObject } from '../../kube/index.js';
import { Indexer, isResync, or, requestFor, specOrMetadataChanged, type Controller, type Manager } from '../../runtime/index.js';
import { RolloutMetrics } from './metrics.js';
import { RolloutReconciler, type RolloutWatches } from './reconcile.js';
import { HTTP_ROUTE, ROLLOUT_API_VERSION, ROLLOUT_FIELD_MANAGER, type Rollout } from './types.js';

export * from './commands.js';
export * from './types.js';
export { routeName, routeWeights } from './route.js';
export { plannedSteps, describeStep } from './steps.js';

export interface RolloutControllerOptions {
  /** Watch one namespace. @default all */
  namespace?: string;
  concurrency?: number;
  /** Prometheus to query when a Rollout's analysis names none, e.g. `http://prometheus.monitoring:9090`. */
  prometheusAddress?: string;
}

const componentKey = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.labels?.[LABEL_APP_NAME] ?? ''}/${o.metadata.labels?.[LABEL_COMPONENT] ?? ''}`;

/**
 * Registers the Rollout controller (docs/adr/0011-progressive-delivery.md): it reconciles Rollouts
 * (what the `rollout` trait renders), watches the workloads of their components (a revision getting
 * ready moves a rollout on) and the HTTPRoutes it writes (an edit is undone).
 */
export function registerRolloutController(mgr: Manager, options: RolloutControllerOptions = {}): Controller<Rollout> {
  const ns = options.namespace ? { namespace: options.namespace } : {};
  const rollouts = mgr.informer<Rollout>({ apiVersion: ROLLOUT_API_VERSION, kind: 'Rollout', ...ns });
  // Rollouts by `<ns>/<app>/<component>`: the workloads of a component wake its Rollout.
  const byComponent = new Indexer(rollouts, (r) => [componentKey(r)]);
  const self: { controller?: Controller<Rollout> } = {};
  const watched = new Map<string, Informer<KubeObject>>();
  const watches: RolloutWatches = {
    async workloads(apiVersion, kind) {
      const key = `${apiVersion}/${kind}`;
      const spec = { apiVersion, kind, labelSelector: LABEL_APP_NAME, ...ns };
      if (!watched.has(key)) watched.set(key, mgr.informer<KubeObject>(spec));
      await self.controller!.watch({ ...spec, map: (o) => byComponent.get(componentKey(o)).map(requestFor) });
      return watched.get(key)!;
    },
    routes: () => self.controller!.watchOwned({ ...HTTP_ROUTE, ...ns }),
  };
  const controller = (self.controller = mgr.controller<Rollout>({
    name: 'rollout',
    for: { apiVersion: ROLLOUT_API_VERSION, kind: 'Rollout', ...ns, predicates: [or(specOrMetadataChanged, isResync)] },
    reconciler: new RolloutReconciler({
      kube: mgr.kube.withFieldManager(ROLLOUT_FIELD_MANAGER),
      recorder: mgr.recorder,
      watches,
      metrics: new RolloutMetrics(mgr.metrics.registry),
      ...(options.prometheusAddress ? { prometheusAddress: options.prometheusAddress } : {}),
    }),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  }));
  return controller;
}
