import type { Connection } from './connection.js';
import { splitApiVersion } from './types.js';

/** What the API server calls a kind: its resource (plural) name and whether it is namespaced. */
export interface ResourceInfo {
  group: string;
  version: string;
  kind: string;
  /** Plural resource name used in URLs, e.g. `deployments`. */
  resource: string;
  namespaced: boolean;
  /** Subresources the server offers for it, e.g. `status`, `scale`. */
  subresources: string[];
}

interface ApiResourceList {
  resources: { name: string; kind: string; namespaced: boolean }[];
}

/**
 * Maps apiVersion + kind to resource names through discovery, one group-version at a time, cached.
 * A kind not found is looked up again (at most once every 2 s per group-version), so CRDs installed
 * after start are found.
 */
export class ResourceMapper {
  private readonly cache = new Map<string, { at: number; kinds: Map<string, ResourceInfo> }>();
  private readonly inflight = new Map<string, Promise<Map<string, ResourceInfo>>>();

  constructor(private readonly conn: Connection) {}

  async resolve(apiVersion: string, kind: string): Promise<ResourceInfo | undefined> {
    const cached = this.cache.get(apiVersion);
    const hit = cached?.kinds.get(kind);
    if (hit) return hit;
    if (cached && Date.now() - cached.at < 2000) return undefined;
    const kinds = await this.discover(apiVersion);
    return kinds.get(kind);
  }

  /**
   * Whether discovery, when last asked (no request now), answered for `apiVersion` without `kind`:
   * the kind is known not to be served. False when served or not asked yet.
   */
  knownUnserved(apiVersion: string, kind: string): boolean {
    const cached = this.cache.get(apiVersion);
    return !!cached && !cached.kinds.has(kind);
  }

  /** Forgets what discovery said, e.g. after CRDs were installed or removed. */
  invalidate(apiVersion?: string): void {
    if (apiVersion) this.cache.delete(apiVersion);
    else this.cache.clear();
  }

  private discover(apiVersion: string): Promise<Map<string, ResourceInfo>> {
    let pending = this.inflight.get(apiVersion);
    if (!pending) {
      pending = this.fetch(apiVersion).finally(() => this.inflight.delete(apiVersion));
      this.inflight.set(apiVersion, pending);
    }
    return pending;
  }

  private async fetch(apiVersion: string): Promise<Map<string, ResourceInfo>> {
    const { group, version } = splitApiVersion(apiVersion);
    const path = group ? `/apis/${group}/${version}` : `/api/${version}`;
    const kinds = new Map<string, ResourceInfo>();
    let list: ApiResourceList;
    try {
      list = await this.conn.request<ApiResourceList>(path);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) {
        this.cache.set(apiVersion, { at: Date.now(), kinds });
        return kinds;
      }
      throw err;
    }
    const subresources = new Map<string, string[]>();
    for (const r of list.resources) {
      const slash = r.name.indexOf('/');
      if (slash > 0) {
        const base = r.name.slice(0, slash);
        subresources.set(base, [...(subresources.get(base) ?? []), r.name.slice(slash + 1)]);
      }
    }
    for (const r of list.resources) {
      if (r.name.includes('/')) continue;
      kinds.set(r.kind, {
        group,
        version,
        kind: r.kind,
        resource: r.name,
        namespaced: r.namespaced,
        subresources: subresources.get(r.name) ?? [],
      });
    }
    this.cache.set(apiVersion, { at: Date.now(), kinds });
    return kinds;
  }
}
