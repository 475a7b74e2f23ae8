import { entryKey, entryOf } from '../../apply/index.js';
import type { Informer, KubeObject } from '../../kube/index.js';

type Ref = { apiVersion: string; kind: string; name: string; namespace?: string };

/**
 * The live objects one reconcile reads, from the informer caches, each at one version: the first
 * read of an object is what every later read in the same reconcile sees (render, dependency gate,
 * apply, health) — except that the API server's answer to a write of it replaces it for the reads
 * that follow. The render fingerprint's children hash (fingerprint.ts) names the versions
 * {@link recorded}: as first read, or as written when the write is vouched for — nothing this
 * reconcile decided from the object's first version differs in the written one (ADR 0008). So the
 * watch event of a vouched write is recognised as this reconcile's own and skipped; any other
 * write is followed by one more reconcile, which sees everything as written.
 *
 * @example
 *   const reads = new LiveReads((v, k) => kinds.get(v, k), 'shop')
 *   reads.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' })
 *   reads.wrote(await kube.apply(deployment))
 */
export class LiveReads {
  private readonly seen = new Map<string, KubeObject | undefined>();
  private readonly written = new Map<string, KubeObject>();
  private readonly vouched = new Set<string>();

  constructor(
    private readonly lookup: (apiVersion: string, kind: string) => Informer<KubeObject> | undefined,
    private readonly namespace: string,
  ) {}

  /** The object (undefined when absent): as written in this reconcile, else as first read. */
  readonly get = (ref: Ref): KubeObject | undefined => this.written.get(this.key(ref)) ?? this.first(ref);

  /**
   * The object as first read in this reconcile (undefined when absent, or its kind not watched or not
   * listed yet — then nothing is recorded as read: a read once the list is in sees the object, e.g.
   * the apply after a render that read the workload while another reconcile's watch of its kind was
   * still listing, which would otherwise create an object that exists).
   */
  readonly first = (ref: Ref): KubeObject | undefined => {
    const key = this.key(ref);
    if (this.seen.has(key)) return this.seen.get(key);
    const informer = this.lookup(ref.apiVersion, ref.kind);
    if (!informer?.synced) return undefined; // its kind not watched or not listed yet: nothing read
    const obj = informer.get(ref.name, ref.namespace ?? this.namespace);
    this.seen.set(key, obj);
    return obj;
  };

  /**
   * Records the API server's answer to a write of the object: later {@link get}s see it. `vouch`:
   * the caller knows nothing it decided from the version first read depends on what the write
   * changed, so the fingerprint may record the written version ({@link recorded}).
   */
  wrote(obj: KubeObject, { vouch = false }: { vouch?: boolean } = {}): void {
    const key = entryKey(entryOf(obj));
    this.written.set(key, obj);
    if (vouch) this.vouched.add(key);
    else this.vouched.delete(key);
  }

  /** The version the render fingerprint records: the written one when vouched for, else as first read. */
  readonly recorded = (ref: Ref): KubeObject | undefined => {
    const key = this.key(ref);
    return (this.vouched.has(key) ? this.written.get(key) : undefined) ?? this.first(ref);
  };

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
