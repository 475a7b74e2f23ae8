import type { TypedReference } from '../../apis/generated/core.oam.dev-v1alpha2.js';
import type { DefinitionSource } from '../../definitions/index.js';
import type { KubeClient, KubeObject } from '../../kube/index.js';
import { getFieldPath, setFieldPath } from '../../lib/fieldpath.js';
import type { ApplicationConfiguration } from '../types.js';

/** On an AppConfig while it has workloads in scopes: removed once they are taken out again. */
export const FINALIZER_SCOPES = 'trellis.dev/scopes';
const FINALIZER_MANAGER = 'trellis-finalizer';

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
export async function syncScopes(kube: KubeClient, definitions: DefinitionSource, app: ApplicationConfiguration, members: ScopeMembers[], previous: TypedReference[]): Promise<string[]> {
  const namespace = app.metadata.namespace!;
  const byScope = new Map<string, ScopeMembers>(members.map((m) => [key(m.scope), m]));
  for (const p of previous) if (!byScope.has(key(p))) byScope.set(key(p), { scope: p, workloads: [] });
  const missing: string[] = [];
  for (const { scope, workloads } of byScope.values()) {
    const live = await kube.getOrNull<KubeObject>({ apiVersion: scope.apiVersion, kind: scope.kind, name: scope.name, namespace });
    if (!live) {
      if (workloads.length) missing.push(`${scope.kind}/${scope.name}`);
      continue;
    }
    const path = await refsPath(definitions, scope);
    const have = ((getFieldPath(live, path) as TypedReference[] | undefined) ?? []).map(key);
    const mine = owned(live, scopeFieldManager(app.metadata.name!));
    const want = workloads.map((w) => ({ apiVersion: w.apiVersion, kind: w.kind, name: w.name }));
    if (want.every((w) => have.includes(key(w))) && mine === want.length) continue;
    const body: KubeObject = { apiVersion: scope.apiVersion, kind: scope.kind, metadata: { name: scope.name, namespace } };
    setFieldPath(body, path, want);
    await kube.apply(body, { fieldManager: scopeFieldManager(app.metadata.name!), force: true });
  }
  return missing;
}

/** How many list entries `manager` owns in the object (entries of a map list appear as `k:{...}` keys). */
function owned(obj: KubeObject, manager: string): number {
  const entry = ((obj.metadata.managedFields ?? []) as { manager?: string; operation?: string; fieldsV1?: unknown }[]).find((m) => m.manager === manager && m.operation === 'Apply');
  let count = 0;
  const walk = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (k.startsWith('k:')) count++;
      else walk(v);
    }
  };
  walk(entry?.fieldsV1);
  return count;
}

/** Adds or removes the scopes finalizer on the AppConfig (server-side apply of just that entry). */
export async function setScopesFinalizer(kube: KubeClient, app: ApplicationConfiguration, present: boolean): Promise<void> {
  const has = app.metadata.finalizers?.includes(FINALIZER_SCOPES) ?? false;
  if (has === present) return;
  await kube.apply({ apiVersion: app.apiVersion, kind: app.kind, metadata: { name: app.metadata.name, namespace: app.metadata.namespace, finalizers: present ? [FINALIZER_SCOPES] : [] } }, { fieldManager: FINALIZER_MANAGER, force: true });
}
