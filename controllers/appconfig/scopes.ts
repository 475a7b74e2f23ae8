import type { TypedReference } from '../../apis/generated/core.oam.dev-v1alpha2.js';
import type { DefinitionSource } from '../../definitions/index.js';
import { setFinalizer, type KubeClient, type KubeObject } from '../../kube/index.js';
import { getFieldPath, parseFieldPath, setFieldPath } from '../../lib/fieldpath.js';
import type { ApplicationConfiguration } from '../types.js';

/** On an AppConfig while it has workloads in scopes: removed once they are taken out again. */
export const FINALIZER_SCOPES = 'trellis.dev/scopes';

/** The field manager an AppConfig's entries in a scope are applied with: its own, so apps sharing a scope never touch each other's entries. */
export const scopeFieldManager = (app: string) => `trellis-scope.${app}`.slice(0, 128);

export interface ScopeMembers {
  scope: TypedReference;
  workloads: TypedReference[];
}

const key = (r: TypedReference) => `${r.apiVersion}/${r.kind}/${r.name}`;

/** Where a scope kind lists its workloads: its ScopeDefinition's `workloadRefsPath`. @default 'spec.workloadRefs' */
async function refsPath(definitions: DefinitionSource, scope: TypedReference): Promise<string> {
  const resource = await definitions.resourceByKind(scope.apiVersion, scope.kind);
  const def = resource ? await definitions.scopeDefinition(resource.name) : undefined;
  return def?.spec?.workloadRefsPath || 'spec.workloadRefs';
}

/**
 * Puts each workload into the scopes its component names, and takes it out of scopes it left
 * (those in `previous` but not in `members`), with server-side apply of just this AppConfig's
 * entries. Returns the scopes that do not exist (their entries wait until they do).
 */
export async function syncScopes(
  kube: KubeClient,
  definitions: DefinitionSource,
  app: ApplicationConfiguration,
  members: ScopeMembers[],
  previous: TypedReference[],
): Promise<string[]> {
  const namespace = app.metadata.namespace!;
  const byScope = new Map<string, ScopeMembers>(members.map((m) => [key(m.scope), m]));
  for (const p of previous) if (!byScope.has(key(p))) byScope.set(key(p), { scope: p, workloads: [] });
  const missing: string[] = [];
  for (const { scope, workloads } of byScope.values()) {
    const live = await kube.getOrNull<KubeObject>({
      apiVersion: scope.apiVersion,
      kind: scope.kind,
      name: scope.name,
      namespace,
    });
    if (!live) {
      if (workloads.length) missing.push(`${scope.kind}/${scope.name}`);
      continue;
    }
    const path = await refsPath(definitions, scope);
    const list = (getFieldPath(live, path) as TypedReference[] | undefined) ?? [];
    const have = list.map(key);
    const manager = scopeFieldManager(app.metadata.name!);
    const mine = owned(live, manager);
    const want = workloads.map((w) => ({ apiVersion: w.apiVersion, kind: w.kind, name: w.name }));
    if (want.every((w) => have.includes(key(w))) && mine.length === want.length) continue;
    if (!want.length) {
      await releaseEntries(kube, live, path, list, new Set(mine));
      continue;
    }
    const body: KubeObject = {
      apiVersion: scope.apiVersion,
      kind: scope.kind,
      metadata: { name: scope.name, namespace },
    };
    setFieldPath(body, path, want);
    await kube.apply(body, { fieldManager: manager, force: true });
  }
  return missing;
}

/**
 * Takes this AppConfig's last entries out of the scope's list. Not by server-side apply of an empty
 * list: when the list itself belongs to another manager (a scope made with `kubectl create` or
 * client-side `kubectl apply`, as upstream's examples are), the API server turns that into
 * `workloadRefs: null`, which the schema refuses (issue 19). A JSON patch of the list, guarded by
 * the resourceVersion it was computed from, removes exactly these entries and keeps everyone else's.
 */
async function releaseEntries(
  kube: KubeClient,
  live: KubeObject,
  path: string,
  list: TypedReference[],
  mine: Set<string>,
): Promise<void> {
  const rest = list.filter((r) => !mine.has(key(r)));
  if (rest.length === list.length) return;
  const pointer = `/${parseFieldPath(path)
    .map((s) => String(s).replace(/~/g, '~0').replace(/\//g, '~1'))
    .join('/')}`;
  const ref = {
    apiVersion: live.apiVersion,
    kind: live.kind,
    name: live.metadata.name!,
    namespace: live.metadata.namespace!,
  };
  await kube.patch(
    ref,
    [
      { op: 'test', path: '/metadata/resourceVersion', value: live.metadata.resourceVersion },
      { op: 'replace', path: pointer, value: rest },
    ],
    'json',
  );
}

/** The list entries `manager` owns in the object, as {@link key}s (entries of a map list appear as `k:{...}` keys). */
function owned(obj: KubeObject, manager: string): string[] {
  const entry = (
    (obj.metadata.managedFields ?? []) as { manager?: string; operation?: string; fieldsV1?: unknown }[]
  ).find((m) => m.manager === manager && m.operation === 'Apply');
  const keys: string[] = [];
  const walk = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (k.startsWith('k:')) keys.push(key(JSON.parse(k.slice(2)) as TypedReference));
      else walk(v);
    }
  };
  walk(entry?.fieldsV1);
  return keys;
}

/** Adds or removes the scopes finalizer on the AppConfig (kube/'s setFinalizer: a guarded JSON patch, never an apply). */
export function setScopesFinalizer(kube: KubeClient, app: ApplicationConfiguration, present: boolean): Promise<void> {
  return setFinalizer(kube, app, FINALIZER_SCOPES, present);
}
