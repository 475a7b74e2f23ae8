import { LABEL_APP_NAME } from '../../apis/labels.js';
import { Applier } from '../../apply/index.js';
import type { Informer, KubeObject } from '../../kube/index.js';
import { CueEngine, type CueEngineOptions } from '../../cue/index.js';
import { settlesWithin } from '../../lib/settles-within.js';
import { isRecord } from '../../lib/is-record.js';
import {
  generationChanged,
  Indexer,
  isResync,
  keyOf,
  or,
  predicate,
  specOrMetadataChanged,
  type Controller,
  type Manager,
  type Request,
} from '../../runtime/index.js';
import { childKindsOf } from '../child-kinds.js';
import { cachedRevision, ensureRevision } from '../component/ensure.js';
import { componentOfRevision, LABEL_REVISION_COMPONENT, type ComponentRevision } from '../component/revisions.js';
import { DEFINITION_KINDS, informerDefinitions } from '../definitions.js';
import { FIELD_MANAGER } from '../field-managers.js';
import { API_VERSION, type ApplicationConfiguration, type Component, type WorkloadDefinition } from '../types.js';
import type { KindWatcher } from './kinds.js';
import { appConfigMetrics, registerApplicationInfo } from './metrics.js';
import { AppConfigReconciler } from './reconcile.js';
import { childEvents } from './child-events.js';
import { Coalescer } from './coalesce.js';
import { OwnWrites } from './own-writes.js';
import { RevisionPendingError } from './sources.js';
import { ReleaseWatch } from './release-watch.js';
import { CRD_KIND, UnservedWake, type Crd } from './unserved-wake.js';

export { AppConfigReconciler } from './reconcile.js';
export { FINALIZER_SCOPES } from './scopes.js';

export interface AppConfigControllerOptions {
  /** Watch one namespace. @default all */
  namespace?: string;
  concurrency?: number;
  /** CUE worker threads (wasm engine). @default min(2, CPUs) */
  cueWorkers?: number;
  /** Which CUE engine, and where the native evaluator comes from. @default auto */
  cue?: CueEngineOptions;
  /** Objects applied at once within one reconcile. @default 8 */
  applyConcurrency?: number;
  /** The Trellis version, part of every render fingerprint (an upgrade re-renders). @default '' */
  version?: string;
  /**
   * How long a child's changes of status alone (kube-controller-manager reporting a Deployment's
   * rollout: observedGeneration, ReplicaSets, conditions — several writes after each change) must
   * have been quiet before its AppConfig is reconciled (at most 5× that after the first), so a
   * burst of them is one pass: one health verdict, one status write. Any other change of a child
   * (drift) is corrected at once. 0 reconciles at once. @default 1000
   */
  statusCoalesceMs?: number;
  /**
   * How long a reconcile waits for the first list of a kind it starts watching. A kind that takes
   * longer (RBAC refuses the list, the API server is slow) is applied without its cache and
   * reported; its informer keeps trying in the background. @default 10000
   */
  kindSyncTimeoutMs?: number;
}

const latestRevisionChanged = predicate<Component>('latestRevisionChanged', ({ object, old }) =>
  old && object.status?.latestRevision?.name === old.status?.latestRevision?.name ? 'latest revision unchanged' : true,
);

/**
 * Registers the ApplicationConfiguration controller: it watches AppConfigs, the Components and
 * revisions they use, the definitions, and every kind it renders (label `app.oam.dev/name`), so a
 * change to any of them — or drift in what it created — wakes exactly the AppConfigs concerned.
 */
export function registerAppConfigController(
  mgr: Manager,
  options: AppConfigControllerOptions = {},
): Controller<ApplicationConfiguration> {
  const ns = options.namespace ? { namespace: options.namespace } : {};
  const kube = mgr.kube;
  const apps = mgr.informer<ApplicationConfiguration>({
    apiVersion: API_VERSION,
    kind: 'ApplicationConfiguration',
    ...ns,
  });
  const components = mgr.informer<Component>({ apiVersion: API_VERSION, kind: 'Component', ...ns });
  const revisions = mgr.informer<ComponentRevision>({
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    labelSelector: LABEL_REVISION_COMPONENT,
    ...ns,
  });
  const workloadDefinitions = mgr.informer<WorkloadDefinition>({ apiVersion: API_VERSION, kind: 'WorkloadDefinition' });
  const definitions = informerDefinitions(mgr, kube);
  registerApplicationInfo(mgr.metrics.registry, apps);
  const engine = new CueEngine({
    logger: mgr.logger,
    ...options.cue,
    ...(options.cueWorkers ? { workers: options.cueWorkers } : {}),
  });
  mgr.add({ name: 'cue-engine', needLeaderElection: false, start: () => {}, stop: () => engine.stop() });
  const metrics = appConfigMetrics(mgr.metrics.registry, engine);

  // AppConfigs by `<ns>/<component>` and `<ns>/<revision>` they use.
  const users = new Indexer(apps, (a) =>
    (a.spec?.components ?? []).flatMap((c) => {
      const component = c.componentName ?? (c.revisionName ? componentOfRevision(c.revisionName) : undefined);
      return [
        ...(component ? [`${a.metadata.namespace}/${component}`] : []),
        ...(c.revisionName ? [`${a.metadata.namespace}/${c.revisionName}`] : []),
      ];
    }),
  );
  // Revisions by `<ns>/<component>`: a Component's revision is made here when the AppConfig needs it first.
  const byComponent = new Indexer(revisions, (r) => [
    `${r.metadata.namespace}/${r.metadata.labels?.[LABEL_REVISION_COMPONENT]}`,
  ]);
  const toRequests = (list: KubeObject[]): Request[] =>
    list.map((a) => ({ namespace: a.metadata.namespace!, name: a.metadata.name! }));
  const owners = (obj: KubeObject): Request[] => {
    const app = obj.metadata.labels?.[LABEL_APP_NAME];
    return app && obj.metadata.namespace ? [{ namespace: obj.metadata.namespace, name: app }] : [];
  };
  // A child's status alone changed: its AppConfig looks once the burst is quiet for statusCoalesceMs.
  const coalesceMs = options.statusCoalesceMs ?? 1_000;
  const coalescer = new Coalescer({ quietMs: coalesceMs, enqueue: (req) => self.controller!.enqueue(req) });
  mgr.add({
    name: 'appconfig-status-coalescer',
    needLeaderElection: false,
    start: () => {},
    stop: async () => coalescer.stop(),
  });
  // A child's update carrying the version this controller wrote and vouched for is its own write coming back.
  const own = new OwnWrites(undefined, () => metrics.ownWriteEvents.inc());
  const byLabel = childEvents({
    owners,
    own,
    ...(coalesceMs > 0 ? { coalesce: (req: Request) => coalescer.add(req) } : {}),
    enqueue: (req) => self.controller!.enqueue(req),
  });

  const self: { controller?: Controller<ApplicationConfiguration> } = {};
  const watched = new Map<string, Informer<KubeObject>>();
  const syncTimeoutMs = options.kindSyncTimeoutMs ?? 10_000;
  const kinds: KindWatcher = {
    async ensure(apiVersion, kind) {
      // Never start an informer for a kind the API server does not serve: its first list would never come.
      if (!(await kube.mapper.resolve(apiVersion, kind))) return { state: 'unserved' };
      const key = `${apiVersion}/${kind}`;
      const spec = { apiVersion, kind, labelSelector: LABEL_APP_NAME, ...ns };
      if (!watched.has(key)) watched.set(key, mgr.informer<KubeObject>(spec));
      const informer = watched.get(key)!;
      const synced = await settlesWithin(self.controller!.watch({ ...spec, map: byLabel }), syncTimeoutMs);
      return synced
        ? { state: 'watched', informer }
        : { state: 'syncing', informer, ...(informer.lastError ? { error: informer.lastError } : {}) };
    },
    get: (apiVersion, kind) => watched.get(`${apiVersion}/${kind}`),
    childKinds: (apiVersion, kind) => childKindsOf(kube, workloadDefinitions, apiVersion, kind),
  };

  const unserved = (o: unknown) =>
    isRecord(o) &&
    typeof o.apiVersion === 'string' &&
    typeof o.kind === 'string' &&
    kube.mapper.knownUnserved(o.apiVersion, o.kind);
  const namesUnserved = (app: ApplicationConfiguration) =>
    (app.spec?.components ?? []).some(
      (c) =>
        (c.traits ?? []).some((t) => unserved(t.trait)) ||
        (c.componentName && unserved(components.get(c.componentName, app.metadata.namespace)?.spec?.workload)),
    );

  // An AppConfig naming a kind no CRD installs yet wakes when one is established (a CRD watch started on the first such wait).
  const crds = () => mgr.informer<Crd>(CRD_KIND);
  const wake: UnservedWake = new UnservedWake({
    watch: () =>
      self.controller!.watch({
        ...CRD_KIND,
        map: (crd) => {
          const woken = wake.woken(crd as Crd);
          // Their wait is over: ordinary work again.
          for (const req of woken) self.controller!.queue.setPriority(keyOf(req), 'normal');
          return woken;
        },
      }),
    crds: () => crds().list(),
    invalidate: (apiVersion) => kube.mapper.invalidate(apiVersion),
    logger: mgr.logger,
  });

  // An AppConfig refused an object someone else holds wakes when that object changes hands.
  const releases = new ReleaseWatch({ kube, enqueue: (req) => self.controller!.enqueue(req), logger: mgr.logger });
  apps.on({ add: (a) => releases.update(a), update: (a) => releases.update(a), delete: (a) => releases.forget(a) });
  mgr.add({ name: 'appconfig-release-watch', needLeaderElection: false, start: () => {}, stop: () => releases.stop() });

  const controller = (self.controller = mgr.controller<ApplicationConfiguration>({
    name: 'applicationconfiguration',
    for: {
      apiVersion: API_VERSION,
      kind: 'ApplicationConfiguration',
      ...ns,
      predicates: [or(specOrMetadataChanged, isResync)],
    },
    watches: [
      {
        apiVersion: API_VERSION,
        kind: 'Component',
        ...ns,
        predicates: [or(generationChanged, latestRevisionChanged as never)],
        map: (c) => toRequests(users.get(`${c.metadata.namespace}/${c.metadata.name}`)),
      },
      {
        apiVersion: 'apps/v1',
        kind: 'ControllerRevision',
        labelSelector: LABEL_REVISION_COMPONENT,
        ...ns,
        map: (r) => toRequests(users.get(`${r.metadata.namespace}/${r.metadata.name}`)),
      },
      // A definition added or changed may fix (or change) how any AppConfig renders.
      ...DEFINITION_KINDS.map((k) => ({ ...k, predicates: [generationChanged], map: () => toRequests(apps.list()) })),
    ],
    // Known to wait before its first reconcile: it names (inline, or as its Components' workloads) a
    // kind discovery already said is not served. Queued behind fresh work, like one whose last
    // reconcile found that (issue 19: 20 such AppConfigs applied at once held up an ordinary one).
    priority: (app) => (namesUnserved(app) ? 'low' : undefined),
    reconciler: new AppConfigReconciler({
      kube,
      applier: new Applier({ kube, fieldManager: FIELD_MANAGER, concurrency: options.applyConcurrency ?? 8 }),
      apps,
      components,
      revisions,
      definitions,
      engine,
      recorder: mgr.recorder,
      kinds,
      wake,
      ensureRevision: async (c) => {
        const key = `${c.metadata.namespace}/${c.metadata.name}`;
        // Sharded replicas (ADR 0009): a Component's revisions are written only by the replica that
        // holds the Component's shard — one writer per object; another replica waits for it as
        // AppConfigs did before (the Component's status wakes them). Made as the Component's own
        // reconcile would (Manager.forKey): its writes fenced by, and drained with, the Component's shard.
        const made = await mgr.forKey(key, () =>
          ensureRevision(c, { kube, cached: byComponent.get(key), recorder: mgr.recorder }),
        );
        if (!made) throw new RevisionPendingError(c.metadata.name ?? key);
        return made.revision;
      },
      cachedRevision: (c) => cachedRevision(c, byComponent.get(`${c.metadata.namespace}/${c.metadata.name}`)),
      ...(options.version ? { version: options.version } : {}),
      // Sharded (ADR 0009): never write blind while a kind is still listing — another replica may have written it.
      waitForLists: !!mgr.shards,
      ownWrites: own,
      onRender: (result, reason) => metrics.renders.inc({ result, ...(reason ? { reason } : {}) }),
      onPhase: (phase, seconds) => metrics.phases.observe({ phase }, seconds),
    }),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  }));
  return controller;
}
