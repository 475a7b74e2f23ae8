import type { Component, DefinitionReference, TraitDefinition, WorkloadDefinition } from '../apis/generated/core.oam.dev-v1alpha2.js';
import { isNotFound, type KubeClient, type KubeObject } from '../kube/index.js';

/** The apiVersion and kind a definition's `definitionRef` stands for. */
export interface KindRef {
  apiVersion: string;
  kind: string;
}

/** What the webhooks need to know about definitions and components in the cluster. */
export interface DefinitionLookup {
  workloadDefinition(name: string): Promise<WorkloadDefinition | undefined>;
  traitDefinition(name: string): Promise<TraitDefinition | undefined>;
  /** The TraitDefinition of a trait given as a full object: named after its resource (`manualscalertraits.core.oam.dev`). */
  traitDefinitionForKind(apiVersion: string, kind: string): Promise<TraitDefinition | undefined>;
  /** The kind a `definitionRef` names: a CRD (`foo.example.com`) or a built-in resource (`deployments.apps`). */
  kindOf(ref: DefinitionReference): Promise<KindRef | undefined>;
  component(namespace: string, name: string): Promise<Component | undefined>;
}

interface Crd extends KubeObject {
  spec: { group: string; names: { kind: string }; versions: { name: string; served?: boolean; storage?: boolean }[] };
}

/**
 * {@link DefinitionLookup} answered by the API server at admission time, so a definition applied a
 * moment earlier (same `kubectl apply -f`) is always seen.
 */
export class ClusterDefinitionLookup implements DefinitionLookup {
  constructor(private readonly kube: KubeClient) {}

  workloadDefinition(name: string): Promise<WorkloadDefinition | undefined> {
    return this.kube.getOrNull<WorkloadDefinition & KubeObject>({ apiVersion: 'core.oam.dev/v1alpha2', kind: 'WorkloadDefinition', name });
  }

  traitDefinition(name: string): Promise<TraitDefinition | undefined> {
    return this.kube.getOrNull<TraitDefinition & KubeObject>({ apiVersion: 'core.oam.dev/v1alpha2', kind: 'TraitDefinition', name });
  }

  async traitDefinitionForKind(apiVersion: string, kind: string): Promise<TraitDefinition | undefined> {
    const info = await this.kube.mapper.resolve(apiVersion, kind);
    if (!info) return undefined;
    return this.traitDefinition(info.group ? `${info.resource}.${info.group}` : info.resource);
  }

  component(namespace: string, name: string): Promise<Component | undefined> {
    return this.kube.getOrNull<Component & KubeObject>({ apiVersion: 'core.oam.dev/v1alpha2', kind: 'Component', namespace, name });
  }

  async kindOf(ref: DefinitionReference): Promise<KindRef | undefined> {
    const crd = await this.kube.getOrNull<Crd>({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: ref.name });
    if (crd) {
      const version = ref.version ?? (crd.spec.versions.find((v) => v.storage) ?? crd.spec.versions[0])?.name;
      return version ? { apiVersion: `${crd.spec.group}/${version}`, kind: crd.spec.names.kind } : undefined;
    }
    return this.builtInKind(ref);
  }

  /** `deployments.apps` → apps/v1 Deployment, `services` → v1 Service, through discovery. */
  private async builtInKind(ref: DefinitionReference): Promise<KindRef | undefined> {
    const dot = ref.name.indexOf('.');
    const plural = dot < 0 ? ref.name : ref.name.slice(0, dot);
    const group = dot < 0 ? '' : ref.name.slice(dot + 1);
    try {
      let version = ref.version;
      if (!version) {
        if (!group) version = 'v1';
        else version = (await this.kube.request<{ preferredVersion?: { version: string } }>(`/apis/${group}`)).preferredVersion?.version;
      }
      if (!version) return undefined;
      const apiVersion = group ? `${group}/${version}` : version;
      const list = await this.kube.request<{ resources: { name: string; kind: string }[] }>(group ? `/apis/${apiVersion}` : `/api/${version}`);
      const resource = list.resources.find((r) => r.name === plural);
      return resource ? { apiVersion, kind: resource.kind } : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}
