import { builtinCatalog, ClusterDefinitionSource, layeredSource, type DefinitionSource } from '../definitions/index.js';
import type { KubeClient } from '../kube/index.js';
import type { Manager } from '../runtime/index.js';
import { API_VERSION, type ScopeDefinition, type TraitDefinition, type WorkloadDefinition } from './types.js';

/**
 * Definitions for the controllers: WorkloadDefinitions, TraitDefinitions and ScopeDefinitions from
 * the manager's informers (always current, no request per render), kinds from the cluster
 * (discovery, CRDs), then the built-in catalog.
 */
export function informerDefinitions(mgr: Manager, kube: KubeClient): DefinitionSource {
  const workloads = mgr.informer<WorkloadDefinition>({ apiVersion: API_VERSION, kind: 'WorkloadDefinition' });
  const traits = mgr.informer<TraitDefinition>({ apiVersion: API_VERSION, kind: 'TraitDefinition' });
  const scopes = mgr.informer<ScopeDefinition>({ apiVersion: API_VERSION, kind: 'ScopeDefinition' });
  const cluster = new ClusterDefinitionSource({ kube });
  const cached: DefinitionSource = {
    workloadDefinition: async (name) => workloads.get(name),
    traitDefinition: async (name) => traits.get(name),
    scopeDefinition: async (name) => scopes.get(name),
    resourceByName: (name) => cluster.resourceByName(name),
    resourceByKind: (apiVersion, kind) => cluster.resourceByKind(apiVersion, kind),
  };
  return layeredSource(cached, builtinCatalog());
}

/** The definition kinds, for controllers that re-render when one changes. */
export const DEFINITION_KINDS = ['WorkloadDefinition', 'TraitDefinition', 'ScopeDefinition'].map((kind) => ({
  apiVersion: API_VERSION,
  kind,
}));
