/**
 * The dashboard's JSON API (contract: docs/dashboard.md): what the pages show, read from the
 * server's caches (watches) and, per request, from the API server; and the one act, rollback.
 * Every read and the act go through the request's {@link Viewer}: nobody sees or does more than
 * their RBAC allows.
 */
import type { GitSync } from '../apis/generated/gitops.trellis.dev-v1alpha1.js';
import { diffObjects, findRevision, listRevisions, rollbackComponent, ROLLBACK_FIELD_MANAGER } from '../apply/index.js';
import type { Informer, KubeObject } from '../kube/index.js';
import type { Condition } from '../kube/types.js';
import { demand, demandRead, type ResourceAttributes, type Viewer } from './access.js';
import type { FunctionObject, FunctionSampler } from './functions.js';
import { appEvents, appRow, childView, eventTime, type AppConfig, type ChildView, type EventView } from './model.js';

export type GitSyncObject = GitSync & KubeObject;

/** What the handlers read from. */
export interface ApiSources {
  apps: Informer<AppConfig>;
  events: Informer<KubeObject & EventView>;
  functions: Informer<FunctionObject>;
  gitsyncs: Informer<GitSyncObject>;
  sampler: FunctionSampler;
}

/** An answer other than 200: becomes `{ error: { code, message } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const OAM = 'core.oam.dev';
const appAttributes = (verb: string, namespace?: string, name?: string): ResourceAttributes => ({
  verb,
  group: OAM,
  resource: 'applicationconfigurations',
  ...(namespace ? { namespace } : {}),
  ...(name ? { name } : {}),
});

/**
 * The namespaces among `namespaces` whose `resource` the viewer may list (all of them in CLI mode,
 * where the cache holds only what the user could list).
 */
export async function visibleNamespaces(
  viewer: Viewer,
  namespaces: Iterable<string>,
  group: string,
  resource: string,
): Promise<Set<string>> {
  const all = [...new Set(namespaces)];
  if (!viewer.checkReads) return new Set(all);
  if ((await viewer.may({ verb: 'list', group, resource })).allowed) return new Set(all);
  const allowed = await Promise.all(
    all.map(async (ns) => (await viewer.may({ verb: 'list', group, resource, namespace: ns })).allowed),
  );
  return new Set(all.filter((_, i) => allowed[i]));
}

async function visible<T extends KubeObject>(
  viewer: Viewer,
  items: T[],
  group: string,
  resource: string,
  namespace: string | undefined,
): Promise<T[]> {
  const scoped = namespace ? items.filter((o) => o.metadata.namespace === namespace) : items;
  const seen = await visibleNamespaces(
    viewer,
    scoped.map((o) => o.metadata.namespace ?? ''),
    group,
    resource,
  );
  return scoped
    .filter((o) => seen.has(o.metadata.namespace ?? ''))
    .sort((a, b) =>
      `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`),
    );
}

/** GET /api/apps */
export async function listApps(sources: ApiSources, viewer: Viewer, namespace?: string) {
  if (namespace) await demandRead(viewer, appAttributes('list', namespace));
  const apps = await visible(viewer, sources.apps.list(), OAM, 'applicationconfigurations', namespace);
  return { items: apps.map(appRow) };
}

function findApp(sources: ApiSources, namespace: string, name: string): AppConfig {
  const app = sources.apps.get(name, namespace);
  if (!app) throw new ApiError(404, 'NOT_FOUND', `ApplicationConfiguration ${namespace}/${name} not found`);
  return app;
}

/** May the viewer roll back (patch) this AppConfig? For the UI to show or hide the button. */
async function rollbackPermission(viewer: Viewer, namespace: string, name: string) {
  const decision = await viewer.may(appAttributes('patch', namespace, name));
  return decision.allowed
    ? { rollback: true }
    : { rollback: false, ...(decision.reason ? { reason: decision.reason } : {}) };
}

/** GET /api/apps/:ns/:name */
export async function getApp(sources: ApiSources, viewer: Viewer, namespace: string, name: string) {
  await demandRead(viewer, appAttributes('get', namespace, name));
  const app = findApp(sources, namespace, name);
  const inventory = app.status?.inventory ?? [];
  const children = await Promise.all(
    inventory.map((e) => readChild(viewer, { ...e, namespace: e.namespace ?? namespace })),
  );
  const events = (await visibleNamespaces(viewer, [namespace], '', 'events')).size
    ? appEvents(app, sources.events.list())
        .reverse()
        .slice(0, 50)
        .map((e) => ({
          ...(e.type ? { type: e.type } : {}),
          ...(e.reason ? { reason: e.reason } : {}),
          ...(e.message ? { message: e.message } : {}),
          ...(e.count ? { count: e.count } : {}),
          time: eventTime(e),
          object: { kind: e.involvedObject?.kind, name: e.involvedObject?.name },
        }))
    : [];
  const same = (c: ChildView, ref?: { kind: string; name: string }) =>
    !!ref && c.kind === ref.kind && c.name === ref.name;
  const components = (app.spec?.components ?? []).map((entry) => {
    const componentName = entry.componentName ?? entry.revisionName?.replace(/-v\d+$/, '') ?? '';
    const status = app.status?.workloads?.find((w) => w.componentName === componentName);
    const workload = children.find((c) => same(c, status?.workloadRef));
    const traits = (status?.traits ?? [])
      .map((t) => children.find((c) => same(c, t.traitRef)))
      .filter((c): c is ChildView => !!c);
    const revision = entry.revisionName ?? status?.componentRevisionName;
    return {
      name: componentName,
      ...(revision ? { revision } : {}),
      pinned: !!entry.revisionName,
      ...(workload ? { workload } : {}),
      traits,
    };
  });
  return {
    app: { ...appRow(app), conditions: (app.status?.conditions ?? []) as Condition[] },
    components,
    children,
    events,
    permissions: await rollbackPermission(viewer, namespace, name),
  };
}

/** A child as the viewer may see it: `forbidden` when their RBAC does not let them get it. */
export async function readChild(
  viewer: Viewer,
  ref: { apiVersion: string; kind: string; name: string; namespace?: string },
): Promise<ChildView> {
  if (viewer.checkReads) {
    const info = await viewer.kube.resource(ref.apiVersion, ref.kind).catch(() => undefined);
    const decision = info
      ? await viewer.may({
          verb: 'get',
          group: info.group,
          resource: info.resource,
          name: ref.name,
          ...(info.namespaced && ref.namespace ? { namespace: ref.namespace } : {}),
        })
      : { allowed: false };
    if (!decision.allowed) return { ...ref, health: 'forbidden', healthy: undefined };
  }
  return childView(viewer.kube, ref);
}

function componentEntry(app: AppConfig, component: string) {
  const entry = (app.spec?.components ?? []).find(
    (c) => c.componentName === component || c.revisionName?.replace(/-v\d+$/, '') === component,
  );
  if (!entry)
    throw new ApiError(
      404,
      'NOT_FOUND',
      `ApplicationConfiguration ${app.metadata.namespace}/${app.metadata.name} has no component "${component}"`,
    );
  return entry;
}

async function revisionsOf(viewer: Viewer, namespace: string, component: string) {
  await demandRead(viewer, { verb: 'list', group: 'apps', resource: 'controllerrevisions', namespace });
  return listRevisions(viewer.kube, namespace, component);
}

function runningRevision(app: AppConfig, component: string): string | undefined {
  const entry = componentEntry(app, component);
  return entry.revisionName ?? app.status?.workloads?.find((w) => w.componentName === component)?.componentRevisionName;
}

/** GET /api/apps/:ns/:name/components/:component/revisions */
export async function getRevisions(
  sources: ApiSources,
  viewer: Viewer,
  namespace: string,
  name: string,
  component: string,
) {
  await demandRead(viewer, appAttributes('get', namespace, name));
  const app = findApp(sources, namespace, name);
  const entry = componentEntry(app, component);
  const revisions = await revisionsOf(viewer, namespace, component);
  const current = runningRevision(app, component);
  return {
    component,
    namespace,
    ...(current ? { current } : {}),
    pinned: !!entry.revisionName,
    revisions: [...revisions].reverse().map((r) => {
      const image = imageOf(r.data?.spec);
      return {
        name: r.metadata.name!,
        revision: r.revision,
        ...(r.metadata.creationTimestamp ? { created: r.metadata.creationTimestamp } : {}),
        current: r.metadata.name === current,
        ...(image ? { image } : {}),
      };
    }),
    permissions: await rollbackPermission(viewer, namespace, name),
  };
}

/** The first container image a Component's workload names (`properties.image` or `spec.containers[0].image`). */
function imageOf(spec: unknown): string | undefined {
  const workload = (spec as { workload?: Record<string, unknown> } | undefined)?.workload;
  const properties = workload?.properties as { image?: unknown } | undefined;
  if (typeof properties?.image === 'string') return properties.image;
  const containers = (workload?.spec as { containers?: { image?: unknown }[] } | undefined)?.containers;
  return typeof containers?.[0]?.image === 'string' ? containers[0].image : undefined;
}

/** GET /api/apps/:ns/:name/components/:component/diff?from=&to= */
export async function getDiff(
  sources: ApiSources,
  viewer: Viewer,
  where: { namespace: string; name: string; component: string },
  query: { from?: string; to?: string },
) {
  const { namespace, name, component } = where;
  await demandRead(viewer, appAttributes('get', namespace, name));
  const app = findApp(sources, namespace, name);
  const revisions = await revisionsOf(viewer, namespace, component);
  const pick = (wanted: string) => {
    const r = findRevision(revisions, component, wanted);
    if (!r)
      throw new ApiError(
        404,
        'TRL_ROLLBACK_REVISION',
        `no revision "${wanted}" of component "${component}" (it has: ${revisions.map((x) => x.metadata.name).join(', ') || 'none'})`,
      );
    return r;
  };
  const currentName = runningRevision(app, component) ?? revisions.at(-1)?.metadata.name;
  const from = pick(query.from ?? currentName ?? '');
  const previous = [...revisions].reverse().find((r) => r.revision < from.revision);
  if (!query.to && !previous)
    throw new ApiError(
      404,
      'TRL_ROLLBACK_REVISION',
      `no revision before ${from.metadata.name} is kept; name one with ?to=`,
    );
  const to = query.to ? pick(query.to) : previous!;
  const asObject = (spec: unknown) => ({ apiVersion: '', kind: '', metadata: {}, spec });
  return {
    from: from.metadata.name!,
    to: to.metadata.name!,
    changes: diffObjects(asObject(from.data.spec), asObject(to.data.spec)),
  };
}

/** POST /api/apps/:ns/:name/rollback — does what `trellis rollback <app> --component <c> [--to r]` does. */
export async function postRollback(viewer: Viewer, namespace: string, name: string, body: unknown) {
  const { component, to } = (body ?? {}) as { component?: unknown; to?: unknown };
  if (typeof component !== 'string' || !component)
    throw new ApiError(400, 'BAD_REQUEST', 'the body must be JSON {"component": "<name>", "to"?: "<revision>"}');
  if (to !== undefined && (typeof to !== 'string' || !to))
    throw new ApiError(400, 'BAD_REQUEST', '"to" must be a revision name such as "web-v1", "v1" or "1"');
  // CLI mode: the user's own client patches (the API server decides); chart mode: ask first, then the
  // dashboard's ServiceAccount patches.
  if (viewer.checkReads) await demand(viewer, appAttributes('patch', namespace, name));
  const result = await rollbackComponent(viewer.kube.withFieldManager(ROLLBACK_FIELD_MANAGER), {
    namespace,
    app: name,
    component,
    ...(to ? { to } : {}),
  });
  return {
    message: result.message,
    revision: result.revision,
    ...(result.previous ? { previous: result.previous } : {}),
    changed: result.changed,
  };
}

const readyOf = (conditions: Condition[] | undefined) => {
  const ready = conditions?.find((c) => c.type === 'Ready');
  return {
    ready: ready?.status ?? 'Unknown',
    ...(ready && ready.status !== 'True' && ready.reason ? { reason: ready.reason } : {}),
    ...(ready && ready.status !== 'True' && ready.message ? { message: ready.message } : {}),
  };
};

/** GET /api/functions */
export async function listFunctions(sources: ApiSources, viewer: Viewer, namespace?: string) {
  const group = 'serverless.trellis.dev';
  if (namespace) await demandRead(viewer, { verb: 'list', group, resource: 'functions', namespace });
  const items = await visible(viewer, sources.functions.list(), group, 'functions', namespace);
  const unavailable = !sources.functions.synced && sources.functions.lastError;
  return {
    items: items.map((fn) => ({
      namespace: fn.metadata.namespace!,
      name: fn.metadata.name!,
      ...readyOf(fn.status?.conditions as Condition[] | undefined),
      ...(fn.status?.url ? { url: fn.status.url } : {}),
      ...(fn.status?.replicas !== undefined ? { replicas: fn.status.replicas } : {}),
      ...(fn.status?.readyReplicas !== undefined ? { readyReplicas: fn.status.readyReplicas } : {}),
      ...(fn.status?.desiredReplicas !== undefined ? { desiredReplicas: fn.status.desiredReplicas } : {}),
      ...(fn.status?.latestReadyRevisionName ? { latestReadyRevision: fn.status.latestReadyRevisionName } : {}),
      traffic: (fn.status?.traffic ?? []).map((t) => ({
        ...(t.revisionName ? { revision: t.revisionName } : {}),
        ...(t.percent !== undefined ? { percent: t.percent } : {}),
        ...(t.tag ? { tag: t.tag } : {}),
      })),
      series: sources.sampler.series(fn.metadata.namespace!, fn.metadata.name!),
    })),
    source: sources.sampler.hasMetrics ? 'activator' : 'status',
    intervalSeconds: sources.sampler.intervalMs / 1000,
    windowSeconds: sources.sampler.windowMs / 1000,
    ...(unavailable ? { unavailable } : {}),
  };
}

/** GET /api/gitsyncs */
export async function listGitSyncs(sources: ApiSources, viewer: Viewer, namespace?: string) {
  const group = 'gitops.trellis.dev';
  if (namespace) await demandRead(viewer, { verb: 'list', group, resource: 'gitsyncs', namespace });
  const items = await visible(viewer, sources.gitsyncs.list(), group, 'gitsyncs', namespace);
  const unavailable = !sources.gitsyncs.synced && sources.gitsyncs.lastError;
  return {
    items: items.map((g) => {
      const ref = g.spec?.ref;
      const refText = ref?.commit ?? ref?.tag ?? ref?.semver ?? ref?.branch;
      const s = g.status;
      return {
        namespace: g.metadata.namespace!,
        name: g.metadata.name!,
        ...(g.spec?.url ? { url: g.spec.url } : {}),
        ...(refText ? { ref: refText } : {}),
        ...(g.spec?.path ? { path: g.spec.path } : {}),
        ...readyOf(s?.conditions as Condition[] | undefined),
        ...(s?.lastFetchedCommit ? { lastFetchedCommit: s.lastFetchedCommit } : {}),
        ...(s?.lastAppliedCommit ? { lastAppliedCommit: s.lastAppliedCommit } : {}),
        ...(s?.lastSyncTime ? { lastSyncTime: s.lastSyncTime } : {}),
        history: s?.history ?? [],
      };
    }),
    ...(unavailable ? { unavailable } : {}),
  };
}
