import type { Component, DefinitionReference, TraitDefinition, WorkloadDefinition } from '../apis/generated/core.oam.dev-v1alpha2.js';
import { Informer, type KubeClient, type KubeObject } from '../kube/index.js';
import { ClusterDefinitionLookup, type DefinitionLookup, type KindRef } from './definition-lookup.js';

export interface CachedDefinitionLookupOptions {
  /** How long a resolved definitionRef → kind is reused. CRDs rarely change their kind. @default 60000 */
  kindTtlMs?: number;
}

/**
 * {@link DefinitionLookup} answered from watch caches (informers of WorkloadDefinitions and
 * TraitDefinitions; resolved kinds kept for a minute), so an admission review costs no API round
 * trip. A miss falls through to the API server, so a definition applied a moment ago — in the same
 * `kubectl apply -f` — is found even before its watch event arrives.
 *
 * @example
 *   const lookup = new CachedDefinitionLookup(kube); await lookup.start()
 */
export class CachedDefinitionLookup implements DefinitionLookup {
  private readonly live: ClusterDefinitionLookup;
  private readonly workloads: Informer<WorkloadDefinition & KubeObject>;
  private readonly traits: Informer<TraitDefinition & KubeObject>;
  private readonly kinds = new Map<string, { at: number; kind: KindRef }>();
  private readonly kindTtlMs: number;

  constructor(kube: KubeClient, options: CachedDefinitionLookupOptions = {}) {
    this.live = new ClusterDefinitionLookup(kube);
    this.workloads = new Informer(kube, { apiVersion: 'core.oam.dev/v1alpha2', kind: 'WorkloadDefinition' });
    this.traits = new Informer(kube, { apiVersion: 'core.oam.dev/v1alpha2', kind: 'TraitDefinition' });
    this.kindTtlMs = options.kindTtlMs ?? 60_000;
  }

  /** Lists and watches; resolves once both caches are filled. */
  async start(): Promise<void> {
    await Promise.all([this.workloads.start(), this.traits.start()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.workloads.stop(), this.traits.stop()]);
  }

  async workloadDefinition(name: string): Promise<WorkloadDefinition | undefined> {
    return this.workloads.get(name) ?? this.live.workloadDefinition(name);
  }

  async traitDefinition(name: string): Promise<TraitDefinition | undefined> {
    return this.traits.get(name) ?? this.live.traitDefinition(name);
  }

  traitDefinitionForKind(apiVersion: string, kind: string): Promise<TraitDefinition | undefined> {
    return this.live.traitDefinitionForKind(apiVersion, kind);
  }

  component(namespace: string, name: string): Promise<Component | undefined> {
    return this.live.component(namespace, name);
  }

  /** Found kinds are reused for `kindTtlMs`; a kind not found is asked again each time (its CRD may be installed any moment). */
  async kindOf(ref: DefinitionReference): Promise<KindRef | undefined> {
    const key = `${ref.name}@${ref.version ?? ''}`;
    const hit = this.kinds.get(key);
    if (hit && Date.now() - hit.at < this.kindTtlMs) return hit.kind;
    const kind = await this.live.kindOf(ref);
    if (kind) this.kinds.set(key, { at: Date.now(), kind });
    else this.kinds.delete(key);
    return kind;
  }
}
