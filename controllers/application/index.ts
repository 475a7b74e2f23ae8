import { API_VERSION } from '../../apis/generated/core.oam.dev-v1beta1.js';
import { LABEL_APP_NAME } from '../../apis/labels.js';
import { Applier } from '../../apply/index.js';
import { CueEngine, type CueEngineOptions } from '../../cue/index.js';
import { serverVersion, type Informer, type KubeObject } from '../../kube/index.js';
import { workloadDefinitionOf, type DefinitionSource } from '../../definitions/index.js';
import { DEFAULT_CLUSTER_VERSION } from '../../application/vela/translate.js';
import {
  isResync,
  or,
  specOrMetadataChanged,
  type Controller,
  type Manager,
  type Request,
} from '../../runtime/index.js';
import type { KindWatcher } from '../appconfig/kinds.js';
import { childKindsOf } from '../child-kinds.js';
import { DEFINITION_KINDS, informerDefinitions } from '../definitions.js';
import { FIELD_MANAGER } from '../field-managers.js';
import type { WorkloadDefinition } from '../types.js';
import { ApplicationReconciler } from './reconcile.js';
import type { AppRevision, VelaApplication } from './revisions.js';

export interface ApplicationControllerOptions {
  /** Watch one namespace. @default all */
  namespace?: string;
  concurrency?: number;
  /** Which CUE engine. @default auto */
  cue?: CueEngineOptions;
}

/**
 * Registers the KubeVela Application controller (issue 16): Applications, their revisions, the
 * definitions (ComponentDefinitions included) and every kind it renders (label `app.oam.dev/name`).
 */
export function registerApplicationController(
  mgr: Manager,
  options: ApplicationControllerOptions = {},
): Controller<VelaApplication> {
  const ns = options.namespace ? { namespace: options.namespace } : {};
  const kube = mgr.kube;
  const apps = mgr.informer<VelaApplication>({ apiVersion: API_VERSION, kind: 'Application', ...ns });
  const revisions = mgr.informer<AppRevision>({
    apiVersion: API_VERSION,
    kind: 'ApplicationRevision',
    labelSelector: LABEL_APP_NAME,
    ...ns,
  });
  const components = mgr.informer<KubeObject>({ apiVersion: API_VERSION, kind: 'ComponentDefinition' });
  const workloadDefinitions = mgr.informer<WorkloadDefinition>({
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'WorkloadDefinition',
  });
  const engine = new CueEngine({ logger: mgr.logger, ...options.cue });
  mgr.add({ name: 'application-cue-engine', needLeaderElection: false, start: () => {}, stop: () => engine.stop() });
  const base = informerDefinitions(mgr, kube);
  const definitions: DefinitionSource = {
    workloadDefinition: (name) => base.workloadDefinition(name),
    componentDefinition: async (name) => {
      const cd = components.get(name);
      return cd ? workloadDefinitionOf(cd) : undefined;
    },
    traitDefinition: (name) => base.traitDefinition(name),
    scopeDefinition: (name) => base.scopeDefinition(name),
    resourceByName: (name) => base.resourceByName(name),
    resourceByKind: (apiVersion, kind) => base.resourceByKind(apiVersion, kind),
  };
  let version: Promise<string> | undefined;
  const clusterVersion = () =>
    (version ??= serverVersion(kube)
      .then((v) => v.gitVersion)
      .catch(() => ((version = undefined), DEFAULT_CLUSTER_VERSION)));
  const toRequests = (list: KubeObject[]): Request[] =>
    list.map((a) => ({ namespace: a.metadata.namespace!, name: a.metadata.name! }));
  const byLabel = (obj: KubeObject): Request[] => {
    const app = obj.metadata.labels?.[LABEL_APP_NAME];
    return app && obj.metadata.namespace ? [{ namespace: obj.metadata.namespace, name: app }] : [];
  };
  const self: { controller?: Controller<VelaApplication> } = {};
  const watched = new Map<string, Informer<KubeObject>>();
  const kinds: KindWatcher = {
    async ensure(apiVersion, kind) {
      const key = `${apiVersion}/${kind}`;
      const spec = { apiVersion, kind, labelSelector: LABEL_APP_NAME, ...ns };
      if (!watched.has(key)) watched.set(key, mgr.informer<KubeObject>(spec));
      await self.controller!.watch({ ...spec, map: byLabel });
      return { state: 'watched', informer: watched.get(key)! };
    },
    get: (apiVersion, kind) => watched.get(`${apiVersion}/${kind}`),
    childKinds: (apiVersion, kind) => childKindsOf(kube, workloadDefinitions, apiVersion, kind),
  };
  const controller = (self.controller = mgr.controller<VelaApplication>({
    name: 'application',
    for: { apiVersion: API_VERSION, kind: 'Application', ...ns, predicates: [or(specOrMetadataChanged, isResync)] },
    watches: [...DEFINITION_KINDS, { apiVersion: API_VERSION, kind: 'ComponentDefinition' }].map((k) => ({
      ...k,
      map: () => toRequests(apps.list()),
    })),
    reconciler: new ApplicationReconciler({
      kube,
      applier: new Applier({ kube, fieldManager: FIELD_MANAGER, concurrency: 8 }),
      apps,
      revisions,
      definitions,
      engine,
      recorder: mgr.recorder,
      kinds,
      clusterVersion,
    }),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  }));
  return controller;
}
export { applicationHash, LABEL_APP_REVISION_HASH, type AppRevision, type VelaApplication } from './revisions.js';
