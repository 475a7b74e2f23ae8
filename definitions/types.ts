/**
 * Where definitions come from. Render and bind only ever see a {@link DefinitionSource}: the CLI
 * uses files plus the built-in catalog, the controllers and webhooks a cluster-backed source
 * (definitions/cluster-source.ts) layered over the same catalog.
 */
import type { ScopeDefinition, TraitDefinition, WorkloadDefinition } from '../apis/generated/core.oam.dev-v1alpha2.js';

export type { ScopeDefinition, TraitDefinition, WorkloadDefinition };

/** A kind the API server serves, and the resource name definitions use for it (`deployments.apps`, `foo.example.com`). */
export interface ResourceKind {
  apiVersion: string;
  kind: string;
  /** `<plural>.<group>`, or just `<plural>` in the core group (`services`). The name of its CRD, if it has one. */
  name: string;
  /** @default true */
  namespaced?: boolean;
}

/**
 * Looks up definitions and kinds by name. Every method answers `undefined` for "no such thing";
 * it throws only when it cannot tell (e.g. the API server is unreachable).
 */
export interface DefinitionSource {
  /** The WorkloadDefinition of this name: a Component's `workload.type`, or the resource name of a kind. */
  workloadDefinition(name: string): Promise<WorkloadDefinition | undefined>;
  /**
   * KubeVela's ComponentDefinition of this name, read as a workload definition (an Application's
   * component `type` looks here first, then at WorkloadDefinitions). Optional: sources without
   * ComponentDefinitions leave it out.
   */
  componentDefinition?(name: string): Promise<WorkloadDefinition | undefined>;
  /** The TraitDefinition of this name: a trait's `name` shorthand, or the resource name of a kind. */
  traitDefinition(name: string): Promise<TraitDefinition | undefined>;
  scopeDefinition(name: string): Promise<ScopeDefinition | undefined>;
  /** The kind behind a resource name, as a `definitionRef` names it (`containerizedworkloads.core.oam.dev`). */
  resourceByName(name: string): Promise<ResourceKind | undefined>;
  /** The resource name of a kind (`apps/v1` `Deployment` → `deployments.apps`). */
  resourceByKind(apiVersion: string, kind: string): Promise<ResourceKind | undefined>;
}

/** The definition kinds a source holds. */
export type Definition = WorkloadDefinition | TraitDefinition | ScopeDefinition;

export const DEFINITION_KINDS = ['WorkloadDefinition', 'TraitDefinition', 'ScopeDefinition'] as const;

/** The CUE template of a definition, if it is CUE-templated. */
export function templateOf(def: WorkloadDefinition | TraitDefinition | undefined): string | undefined {
  return def?.spec?.schematic?.cue?.template;
}

/** `group/version` and kind from a resource name and version: `deployments.apps` + `v1` → `apps/v1`. */
export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}
