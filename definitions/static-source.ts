import type { KubeObject } from '../kube/types.js';
import { builtinKinds } from './builtin-kinds.js';
import { workloadDefinitionOf } from './component-definition.js';
import {
  apiVersionOf,
  type DefinitionSource,
  type ResourceKind,
  type ScopeDefinition,
  type TraitDefinition,
  type WorkloadDefinition,
} from './types.js';

interface CrdSpec {
  group: string;
  scope?: string;
  names: { kind: string; plural: string };
  version?: string;
  versions?: { name: string; served?: boolean; storage?: boolean }[];
}

/** The kind a CustomResourceDefinition (v1, or the v1beta1 of conformance 04/11b) declares: its storage version. */
export function kindOfCrd(crd: KubeObject): ResourceKind | undefined {
  const spec = crd.spec as CrdSpec | undefined;
  if (!spec?.group || !spec.names?.kind) return undefined;
  const version = spec.versions?.find((v) => v.storage)?.name ?? spec.versions?.[0]?.name ?? spec.version;
  if (!version) return undefined;
  return {
    apiVersion: apiVersionOf(spec.group, version),
    kind: spec.names.kind,
    name: crd.metadata.name ?? `${spec.names.plural}.${spec.group}`,
    namespaced: spec.scope !== 'Cluster',
  };
}

/**
 * Definitions and kinds held in memory: what files or a test gave, plus the built-in kinds.
 *
 * @example
 *   const source = StaticDefinitionSource.fromObjects(parseAllDocuments(yaml).map((d) => d.toJS()))
 */
export class StaticDefinitionSource implements DefinitionSource {
  private readonly workloads = new Map<string, WorkloadDefinition>();
  private readonly components = new Map<string, WorkloadDefinition>();
  private readonly traits = new Map<string, TraitDefinition>();
  private readonly scopes = new Map<string, ScopeDefinition>();
  private readonly byName = new Map<string, ResourceKind>();
  private readonly byKind = new Map<string, ResourceKind>();

  constructor(options: { objects?: KubeObject[]; builtinKinds?: boolean } = {}) {
    if (options.builtinKinds ?? true) for (const kind of builtinKinds()) this.addKind(kind);
    for (const obj of options.objects ?? []) this.add(obj);
  }

  /** A source holding the WorkloadDefinitions (and KubeVela's ComponentDefinitions), TraitDefinitions, ScopeDefinitions and CRDs among `objects`; others are ignored. */
  static fromObjects(objects: KubeObject[]): StaticDefinitionSource {
    return new StaticDefinitionSource({ objects });
  }

  /** Adds a definition or CRD; returns false for objects of other kinds. A later one of the same name wins. */
  add(obj: KubeObject): boolean {
    const name = obj.metadata?.name;
    if (!name) return false;
    switch (obj.kind) {
      case 'WorkloadDefinition':
        this.workloads.set(name, obj as unknown as WorkloadDefinition);
        return true;
      case 'ComponentDefinition':
        this.components.set(name, workloadDefinitionOf(obj));
        return true;
      case 'TraitDefinition':
        this.traits.set(name, obj as unknown as TraitDefinition);
        return true;
      case 'ScopeDefinition':
        this.scopes.set(name, obj as unknown as ScopeDefinition);
        return true;
      case 'CustomResourceDefinition': {
        const kind = kindOfCrd(obj);
        if (kind) this.addKind(kind);
        return !!kind;
      }
      default:
        return false;
    }
  }

  addKind(kind: ResourceKind): void {
    this.byName.set(kind.name, kind);
    this.byKind.set(`${kind.apiVersion}/${kind.kind}`, kind);
  }

  /** Every definition held, workloads first. */
  definitions(): (WorkloadDefinition | TraitDefinition | ScopeDefinition)[] {
    return [...this.workloads.values(), ...this.components.values(), ...this.traits.values(), ...this.scopes.values()];
  }

  async workloadDefinition(name: string) {
    return this.workloads.get(name) ?? this.components.get(name);
  }
  async componentDefinition(name: string) {
    return this.components.get(name);
  }
  async traitDefinition(name: string) {
    return this.traits.get(name);
  }
  async scopeDefinition(name: string) {
    return this.scopes.get(name);
  }
  async resourceByName(name: string) {
    return this.byName.get(name);
  }
  async resourceByKind(apiVersion: string, kind: string) {
    return this.byKind.get(`${apiVersion}/${kind}`);
  }
}

/**
 * Asks each source in turn; the first that knows the answer wins. Put the most specific first
 * (files given on the command line, then the cluster, then the built-in catalog).
 */
export function layeredSource(...sources: DefinitionSource[]): DefinitionSource {
  const first = async <T>(ask: (s: DefinitionSource) => Promise<T | undefined>): Promise<T | undefined> => {
    for (const s of sources) {
      const found = await ask(s);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return {
    workloadDefinition: (name) => first((s) => s.workloadDefinition(name)),
    componentDefinition: (name) => first((s) => s.componentDefinition?.(name) ?? Promise.resolve(undefined)),
    traitDefinition: (name) => first((s) => s.traitDefinition(name)),
    scopeDefinition: (name) => first((s) => s.scopeDefinition(name)),
    resourceByName: (name) => first((s) => s.resourceByName(name)),
    resourceByKind: (apiVersion, kind) => first((s) => s.resourceByKind(apiVersion, kind)),
  };
}
