import type { InformerHandlers, KubeObject } from '../kube/index.js';

const keyOf = (obj: KubeObject) => `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;

/**
 * A secondary index over an informer's cache: objects by values computed from them (e.g. the
 * AppConfigs by each Component they use), kept current by the informer's events. Register it
 * before the informer starts so it sees the first list.
 *
 * @example
 *   const byComponent = new Indexer(appConfigs, (a) => a.spec.components.map((c) => `${a.metadata.namespace}/${c.componentName}`))
 *   byComponent.get('shop/web')   // every AppConfig using Component shop/web
 */
export class Indexer<T extends KubeObject> {
  private readonly byValue = new Map<string, Map<string, T>>();
  private readonly valuesOf = new Map<string, string[]>();

  constructor(
    source: { on(handlers: InformerHandlers<T>): unknown },
    private readonly indexFn: (obj: T) => string[],
  ) {
    source.on({ add: (o) => this.put(o), update: (o) => this.put(o), delete: (o) => this.remove(o) });
  }

  /** Objects indexed under `value`. */
  get(value: string): T[] {
    return [...(this.byValue.get(value)?.values() ?? [])];
  }

  private put(obj: T): void {
    this.remove(obj);
    const key = keyOf(obj);
    const values = [...new Set(this.indexFn(obj))];
    this.valuesOf.set(key, values);
    for (const v of values) {
      let bucket = this.byValue.get(v);
      if (!bucket) this.byValue.set(v, (bucket = new Map()));
      bucket.set(key, obj);
    }
  }

  private remove(obj: T): void {
    const key = keyOf(obj);
    for (const v of this.valuesOf.get(key) ?? []) {
      const bucket = this.byValue.get(v);
      bucket?.delete(key);
      if (bucket && !bucket.size) this.byValue.delete(v);
    }
    this.valuesOf.delete(key);
  }
}
