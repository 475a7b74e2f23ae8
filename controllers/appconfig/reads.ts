import { entryKey, entryOf } from '../../apply/index.js';
import type { Informer, KubeObject } from '../../kube/index.js';

type Ref = { apiVersion: string; kind: string; name: string; namespace?: string };

/**
 * The live objects one reconcile reads, from the informer caches, each at one version: the first
 * read of an object is what every later read in the same reconcile sees (render, dependency gate,
 * apply, health) — except that the API server's answer to a write of it replaces it for the reads
 * that follow. The render fingerprint's children hash (fingerprint.ts) names the versions first
 * read ({@link first}): a reconcile that wrote something is therefore followed by one more (its
 * own write's watch event no longer matches), which sees everything as written; a reconcile that
 * wrote nothing records exactly the versions its outcome was computed from.
 *
 * @example
 *   const reads = new LiveReads((v, k) => kinds.get(v, k), 'shop')
 *   reads.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' })
 *   reads.wrote(await kube.apply(deployment))
 */
export class LiveReads {
  private readonly seen = new Map<string, KubeObject | undefined>();
  private readonly written = new Map<string, KubeObject>();

  constructor(
    private readonly lookup: (apiVersion: string, kind: string) => Informer<KubeObject> | undefined,
    private readonly namespace: string,
  ) {}

  /** The object (undefined when absent): as written in this reconcile, else as first read. */
  readonly get = (ref: Ref): KubeObject | undefined => this.written.get(this.key(ref)) ?? this.first(ref);

  /** The object as first read in this reconcile (undefined when absent or its kind is not watched). */
  readonly first = (ref: Ref): KubeObject | undefined => {
    const key = this.key(ref);
    if (this.seen.has(key)) return this.seen.get(key);
    const informer = this.lookup(ref.apiVersion, ref.kind);
    if (!informer) return undefined; // its kind not watched yet: nothing read
    const obj = informer.get(ref.name, ref.namespace ?? this.namespace);
    this.seen.set(key, obj);
    return obj;
  };

  /** Records the API server's answer to a write of the object: later {@link get}s see it. */
  wrote(obj: KubeObject): void {
    this.written.set(entryKey(entryOf(obj)), obj);
  }

  /** Objects of `kind` in `namespace` controlled by `ownerUid` (each recorded as read). */
  children(kind: { apiVersion: string; kind: string }, namespace: string, ownerUid: string): KubeObject[] {
    const cached = (this.lookup(kind.apiVersion, kind.kind)?.controlledBy(ownerUid) ?? []).filter(
      (o) => o.metadata.namespace === namespace,
    );
    return cached
      .map((o) => this.get({ apiVersion: kind.apiVersion, kind: kind.kind, name: o.metadata.name!, namespace }))
      .filter((o): o is KubeObject => !!o);
  }

  private key(ref: Ref): string {
    return entryKey({ ...ref, namespace: ref.namespace ?? this.namespace });
  }
}
