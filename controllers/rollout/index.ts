import { LABEL_APP_NAME, LABEL_COMPONENT } from '../../apis/labels.js';
import type { Informer, KubeObject } from '../../kube/index.js';
import {
  Indexer,
  isResync,
  or,
  requestFor,
  specOrMetadataChanged,
  type Controller,
  type Manager,
} from '../../runtime/index.js';
import { FUNCTION_KIND, LABEL_FUNCTION } from './function-backend.js';
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
  /**
   * Where the activators' metrics are, for functions' `activator` measures: their `/metrics` URLs,
   * or (in one process, `trellis up`) a function answering their text. @default none
   */
  activatorMetrics?: string[] | (() => Promise<string[]>);
}

const componentKey = (o: KubeObject) =>
  `${o.metadata.namespace}/${o.metadata.labels?.[LABEL_APP_NAME] ?? ''}/${o.metadata.labels?.[LABEL_COMPONENT] ?? ''}`;

/**
 * Registers the Rollout controller (docs/adr/0011-progressive-delivery.md): it reconciles Rollouts
 * (what the `rollout` trait renders), watches the workloads of their components (a revision getting
 * ready moves a rollout on) and the HTTPRoutes it writes (an edit is undone).
 */
export function registerRolloutController(mgr: Manager, options: RolloutControllerOptions = {}): Controller<Rollout> {
  const ns = options.namespace ? { namespace: options.namespace } : {};
  const rollouts = mgr.informer<Rollout>({ apiVersion: ROLLOUT_API_VERSION, kind: 'Rollout', ...ns });
  // Rollouts by `<ns>/<app>/<component>`: the workloads of a component wake its Rollout; and a
  // function's Rollout by `<ns>/<function>`, which its FunctionRevisions wake.
  const byComponent = new Indexer(rollouts, (r) => [componentKey(r)]);
  const byFunction = new Indexer(rollouts, (r) =>
    r.spec?.workloadRef?.kind === FUNCTION_KIND.kind ? [`${r.metadata.namespace}/${r.spec.workloadRef.name}`] : [],
  );
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
    async functionRevisions() {
      const spec = {
        apiVersion: FUNCTION_KIND.apiVersion,
        kind: 'FunctionRevision',
        labelSelector: LABEL_FUNCTION,
        ...ns,
      };
      const key = `${spec.apiVersion}/${spec.kind}`;
      if (!watched.has(key)) watched.set(key, mgr.informer<KubeObject>(spec));
      await self.controller!.watch({
        ...spec,
        map: (o) =>
          byFunction.get(`${o.metadata.namespace}/${o.metadata.labels?.[LABEL_FUNCTION] ?? ''}`).map(requestFor),
      });
      return watched.get(key)!;
    },
    routes: () => self.controller!.watchOwned({ ...HTTP_ROUTE, ...ns }),
  };
  const activatorMetrics =
    typeof options.activatorMetrics === 'function'
      ? options.activatorMetrics
      : options.activatorMetrics?.length
        ? activatorMetricsFrom(options.activatorMetrics)
        : undefined;
  const controller = (self.controller = mgr.controller<Rollout>({
    name: 'rollout',
    for: { apiVersion: ROLLOUT_API_VERSION, kind: 'Rollout', ...ns, predicates: [or(specOrMetadataChanged, isResync)] },
    reconciler: new RolloutReconciler({
      kube: mgr.kube.withFieldManager(ROLLOUT_FIELD_MANAGER),
      recorder: mgr.recorder,
      watches,
      metrics: new RolloutMetrics(mgr.metrics.registry),
      ...(options.prometheusAddress ? { prometheusAddress: options.prometheusAddress } : {}),
      ...(activatorMetrics ? { activatorMetrics } : {}),
    }),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  }));
  return controller;
}

/** Reads every activator's `/metrics` URL (one that does not answer makes the measurement inconclusive, saying why). */
export function activatorMetricsFrom(urls: string[]): () => Promise<string[]> {
  return () =>
    Promise.all(
      urls.map(async (url) => {
        const res = await fetch(url, { signal: AbortSignal.timeout(10_000) }).catch((err: Error) => {
          throw new Error(`cannot read the activator's metrics at ${url}: ${err.message}`, { cause: err });
        });
        if (!res.ok) throw new Error(`the activator's metrics at ${url} answered HTTP ${res.status}`);
        return res.text();
      }),
    );
}
