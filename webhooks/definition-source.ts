import {
  builtinCatalog,
  ClusterDefinitionSource,
  layeredSource,
  type DefinitionSource,
  type ResourceKind,
  type ScopeDefinition,
  type TraitDefinition,
  type WorkloadDefinition,
} from '../definitions/index.js';
import { Informer, type KubeClient, type KubeObject } from '../kube/index.js';

export interface AdmissionDefinitionsOptions {
  kube: KubeClient;
  /** How long a kind found for a resource name is reused. CRDs rarely change their kind. @default 60000 */
  kindTtlMs?: number;
}

const API = 'core.oam.dev/v1alpha2';
const VELA_API = 'core.oam.dev/v1beta1';

/**
 * The cluster's definitions as admission needs them: answered from watch caches (informers of the
 * three definition kinds; kinds found are kept for a minute), so a review costs no API round trip —
 * but a miss always asks the API server and is never remembered, so a definition or CRD applied a
 * moment ago (earlier in the same `kubectl apply -f`) is found before its watch event arrives.
 * (definitions/' ClusterDefinitionSource alone would remember a miss for seconds.)
 */
export class AdmissionDefinitionSource implements DefinitionSource {
  private readonly live: ClusterDefinitionSource;
  private readonly workloads: Informer<WorkloadDefinition & KubeObject>;
  private readonly traits: Informer<TraitDefinition & KubeObject>;
  private readonly scopes: Informer<ScopeDefinition & KubeObject>;
  /** KubeVela's ComponentDefinitions: only their names are read from the cache (for did-you-mean). */
  private readonly components: Informer<KubeObject>;
  private readonly kinds = new Map<string, { at: number; kind: ResourceKind }>();
  private readonly kindTtlMs: number;

  constructor(options: AdmissionDefinitionsOptions) {
    this.live = new ClusterDefinitionSource({ kube: options.kube, cacheTtlMs: 0 });
    this.workloads = new Informer(options.kube, { apiVersion: API, kind: 'WorkloadDefinition' });
    this.traits = new Informer(options.kube, { apiVersion: API, kind: 'TraitDefinition' });
    this.scopes = new Informer(options.kube, { apiVersion: API, kind: 'ScopeDefinition' });
    this.components = new Informer(options.kube, { apiVersion: VELA_API, kind: 'ComponentDefinition' });
    this.kindTtlMs = options.kindTtlMs ?? 60_000;
  }

  /** Lists and watches the definitions; resolves once the caches are filled. */
  async start(): Promise<void> {
    await Promise.all([this.workloads.start(), this.traits.start(), this.scopes.start(), this.components.start()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.workloads.stop(), this.traits.stop(), this.scopes.stop(), this.components.stop()]);
  }

  /**
   * The names of the cached definitions of a kind, for a did-you-mean: `component` is
   * WorkloadDefinitions and ComponentDefinitions (what a KubeVela component `type` resolves against).
   */
  names(kind: 'component' | 'trait'): string[] {
    const of = (i: Informer<KubeObject>) => i.list().map((d) => d.metadata.name!);
    return kind === 'trait' ? of(this.traits) : [...of(this.workloads), ...of(this.components)];
  }

  async componentDefinition(name: string): Promise<WorkloadDefinition | undefined> {
    return this.live.componentDefinition(name);
  }

  async workloadDefinition(name: string): Promise<WorkloadDefinition | undefined> {
    return this.workloads.get(name) ?? this.live.workloadDefinition(name);
  }

  async traitDefinition(name: string): Promise<TraitDefinition | undefined> {
    return this.traits.get(name) ?? this.live.traitDefinition(name);
  }

  async scopeDefinition(name: string): Promise<ScopeDefinition | undefined> {
    return this.scopes.get(name) ?? this.live.scopeDefinition(name);
  }

  /**
   * The same definitions answered from the watch caches alone: a definition missing from them is
   * missing (no API request). For a first, fast check whose denials are confirmed with this source
   * itself: a render looks up a WorkloadDefinition named after every full object's kind
   * (`deployments.apps`), which usually does not exist — asked live, that is one 404 per review.
   * Kinds and ComponentDefinitions are resolved as by this source.
   */
  cachedOnly(): DefinitionSource {
    return {
      workloadDefinition: async (name) => this.workloads.get(name),
      componentDefinition: (name) => this.componentDefinition(name),
      traitDefinition: async (name) => this.traits.get(name),
      scopeDefinition: async (name) => this.scopes.get(name),
      resourceByName: (name) => this.resourceByName(name),
      resourceByKind: (apiVersion, kind) => this.resourceByKind(apiVersion, kind),
    };
  }

  resourceByName(name: string): Promise<ResourceKind | undefined> {
    return this.kind(`n/${name}`, () => this.live.resourceByName(name));
  }

  resourceByKind(apiVersion: string, kind: string): Promise<ResourceKind | undefined> {
    return this.kind(`k/${apiVersion}/${kind}`, () => this.live.resourceByKind(apiVersion, kind));
  }

  private async kind(key: string, load: () => Promise<ResourceKind | undefined>): Promise<ResourceKind | undefined> {
    const hit = this.kinds.get(key);
    if (hit && Date.now() - hit.at < this.kindTtlMs) return hit.kind;
    const kind = await load();
    if (kind) this.kinds.set(key, { at: Date.now(), kind });
    else this.kinds.delete(key);
    return kind;
  }
}

/** What admission resolves names against: the cluster first, then Trellis' built-in catalog (as the controllers do). */
export function admissionDefinitions(cluster: DefinitionSource): DefinitionSource {
  return layeredSource(cluster, builtinCatalog());
}
