/**
 * Definitions and kinds as the cluster has them: definitions by GET, kinds through CRDs and
 * discovery. Answers are cached for a short while, so a render burst does not repeat requests.
 */
import { API_VERSION } from '../apis/generated/core.oam.dev-v1alpha2.js';
// kube/errors.js, not kube/index.js: offline commands (`trellis render`) load this module, and the
// index would load the whole client with it.
import { isNotFound } from '../kube/errors.js';
import type { KubeClient } from '../kube/index.js';
import type { KubeObject } from '../kube/types.js';
import { kindOfCrd } from './static-source.js';
import { API_VERSION as VELA_API_VERSION } from '../apis/generated/core.oam.dev-v1beta1.js';
import { workloadDefinitionOf } from './component-definition.js';
import {
  apiVersionOf,
  type DefinitionSource,
  type ResourceKind,
  type ScopeDefinition,
  type TraitDefinition,
  type WorkloadDefinition,
} from './types.js';

export interface ClusterDefinitionSourceOptions {
  kube: KubeClient;
  /** How long an answer (found or not) is reused. @default 5000 */
  cacheTtlMs?: number;
}

interface GroupDiscovery {
  preferredVersion?: { groupVersion: string };
  versions?: { groupVersion: string }[];
}

/**
 * @example
 *   const definitions = layeredSource(new ClusterDefinitionSource({ kube }), builtinCatalog())
 */
export class ClusterDefinitionSource implements DefinitionSource {
  private readonly kube: KubeClient;
  private readonly ttl: number;
  private readonly cache = new Map<string, { at: number; value: Promise<unknown> }>();

  constructor(options: ClusterDefinitionSourceOptions) {
    this.kube = options.kube;
    this.ttl = options.cacheTtlMs ?? 5000;
  }

  /** A WorkloadDefinition of this name, else KubeVela's ComponentDefinition of this name. */
  workloadDefinition(name: string) {
    return this.cached(
      `wd/${name}`,
      async () =>
        (await this.getDefinition<WorkloadDefinition>('WorkloadDefinition', name)) ??
        (await this.componentDefinition(name)),
    );
  }
  componentDefinition(name: string) {
    return this.cached(`cd/${name}`, async () => {
      const obj = await this.kube.getOrNull<KubeObject>({
        apiVersion: VELA_API_VERSION,
        kind: 'ComponentDefinition',
        name,
      });
      return obj ? workloadDefinitionOf(obj) : undefined;
    });
  }
  traitDefinition(name: string) {
    return this.cached(`td/${name}`, () => this.getDefinition<TraitDefinition>('TraitDefinition', name));
  }
  scopeDefinition(name: string) {
    return this.cached(`sd/${name}`, () => this.getDefinition<ScopeDefinition>('ScopeDefinition', name));
  }

  resourceByName(name: string): Promise<ResourceKind | undefined> {
    return this.cached(`rn/${name}`, async () => {
      const crd = await this.kube.getOrNull({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        name,
      });
      if (crd) return kindOfCrd(crd);
      return this.discover(name);
    });
  }

  resourceByKind(apiVersion: string, kind: string): Promise<ResourceKind | undefined> {
    return this.cached(`rk/${apiVersion}/${kind}`, async () => {
      try {
        const info = await this.kube.resource(apiVersion, kind);
        return {
          apiVersion,
          kind,
          name: info.group ? `${info.resource}.${info.group}` : info.resource,
          namespaced: info.namespaced,
        };
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    });
  }

  /** A built-in resource (`deployments.apps`, `services`) through discovery of its group's preferred version. */
  private async discover(name: string): Promise<ResourceKind | undefined> {
    const dot = name.indexOf('.');
    const [plural, group] = dot < 0 ? [name, ''] : [name.slice(0, dot), name.slice(dot + 1)];
    let groupVersion = 'v1';
    if (group) {
      const discovery = await this.kube.request<GroupDiscovery>(`/apis/${group}`).catch((err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
      const gv = discovery?.preferredVersion?.groupVersion ?? discovery?.versions?.[0]?.groupVersion;
      if (!gv) return undefined;
      groupVersion = gv;
    }
    const list = await this.kube.request<{ resources: { name: string; kind: string; namespaced: boolean }[] }>(
      group ? `/apis/${groupVersion}` : '/api/v1',
    );
    const found = list.resources.find((r) => r.name === plural);
    if (!found) return undefined;
    return {
      apiVersion: group ? groupVersion : apiVersionOf('', 'v1'),
      kind: found.kind,
      name,
      namespaced: found.namespaced,
    };
  }

  private async getDefinition<T>(kind: string, name: string): Promise<T | undefined> {
    const obj = await this.kube.getOrNull<KubeObject>({ apiVersion: API_VERSION, kind, name });
    return obj ? ({ ...obj, apiVersion: API_VERSION, kind } as unknown as T) : undefined;
  }

  private cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < this.ttl) return hit.value as Promise<T>;
    const value = load();
    this.cache.set(key, { at: Date.now(), value });
    value.catch(() => this.cache.delete(key));
    if (this.cache.size > 5000) this.cache.delete(this.cache.keys().next().value as string);
    return value;
  }
}
