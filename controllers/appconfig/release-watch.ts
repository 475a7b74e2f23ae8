import { ANNOTATION_ADOPT, ANNOTATION_OWNER } from '../../apis/labels.js';
import { Informer, type KubeClient, type KubeObject } from '../../kube/index.js';
import type { Logger } from '../../lib/log.js';
import type { Request } from '../../runtime/index.js';
import type { ApplicationConfiguration } from '../types.js';

type Ref = { apiVersion: string; kind: string; name: string; namespace?: string };

const keyOf = (r: Ref) => JSON.stringify([r.apiVersion, r.kind, r.namespace ?? '', r.name]);

/** The parts of an object that decide whose it is. */
function holding(o: KubeObject): string {
  const a = o.metadata.annotations ?? {};
  return JSON.stringify([
    a[ANNOTATION_OWNER],
    a[ANNOTATION_ADOPT],
    o.metadata.ownerReferences?.find((r) => r.controller)?.uid,
    !!o.metadata.deletionTimestamp,
    o.metadata.uid,
  ]);
}

export interface ReleaseWatchOptions {
  kube: KubeClient;
  /** Wakes an AppConfig. */
  enqueue: (req: Request) => void;
  logger: Logger;
}

/**
 * Wakes an AppConfig as soon as an object it was refused changes hands: deleted (its holder let go
 * of it, or the garbage collector took it with its deleted owner), released, or annotated for
 * adoption. The refused objects are listed in each AppConfig's `status.ownership.refused`; each is
 * watched on its own (a field selector on its name) for as long as some AppConfig waits for it,
 * since objects made by hand carry none of the labels the controller's informers select.
 *
 * @example
 *   const watch = new ReleaseWatch({ kube, enqueue: (r) => controller.enqueue(r), logger })
 *   apps.on({ add: (a) => watch.update(a), update: (a) => watch.update(a), delete: (a) => watch.forget(a) })
 */
export class ReleaseWatch {
  /** Per refused object: its informer and the AppConfigs (`namespace/name`) waiting for it. */
  private readonly watches = new Map<string, { informer: Informer; waiting: Set<string> }>();
  /** Per AppConfig: the objects it waits for. */
  private readonly waitsFor = new Map<string, Set<string>>();
  private stopped = false;

  constructor(private readonly o: ReleaseWatchOptions) {}

  /** Follows what `app`'s status says it was refused. */
  update(app: ApplicationConfiguration): void {
    const appKey = `${app.metadata.namespace}/${app.metadata.name}`;
    const refs = (app.status?.ownership?.refused ?? []).map((r) => ({
      ...r.reference,
      namespace: r.reference.namespace,
    }));
    const next = new Map(refs.map((r) => [keyOf(r), r]));
    const before = this.waitsFor.get(appKey) ?? new Set<string>();
    for (const key of before) if (!next.has(key)) this.release(key, appKey);
    for (const [key, ref] of next) if (!before.has(key)) this.wait(key, ref, appKey);
    if (next.size) this.waitsFor.set(appKey, new Set(next.keys()));
    else this.waitsFor.delete(appKey);
  }

  forget(app: ApplicationConfiguration): void {
    this.update({ ...app, status: {} });
  }

  /** Stops every watch. */
  async stop(): Promise<void> {
    this.stopped = true;
    const informers = [...this.watches.values()].map((w) => w.informer);
    this.watches.clear();
    this.waitsFor.clear();
    await Promise.all(informers.map((i) => i.stop()));
  }

  /** How many objects are watched (for tests and metrics). */
  get size(): number {
    return this.watches.size;
  }

  private wait(key: string, ref: Ref, appKey: string): void {
    const existing = this.watches.get(key);
    if (existing) {
      existing.waiting.add(appKey);
      return;
    }
    if (this.stopped) return;
    const informer = new Informer(this.o.kube, {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      ...(ref.namespace ? { namespace: ref.namespace } : {}),
      fieldSelector: `metadata.name=${ref.name}`,
      logger: this.o.logger,
    });
    const watch = { informer, waiting: new Set([appKey]) };
    const wake = () => {
      for (const waiting of watch.waiting) {
        const [namespace, name] = waiting.split('/') as [string, string];
        this.o.enqueue({ namespace, name });
      }
    };
    informer.on({ update: (obj, old) => (holding(obj) !== holding(old) ? wake() : undefined), delete: wake });
    this.watches.set(key, watch);
    // It may have changed hands between the refusal and this watch's first list.
    void informer.start().then(
      () => {
        const now = informer.get(ref.name, ref.namespace);
        if (!now || now.metadata.annotations?.[ANNOTATION_ADOPT]) wake();
      },
      () => {},
    );
  }

  private release(key: string, appKey: string): void {
    const watch = this.watches.get(key);
    if (!watch) return;
    watch.waiting.delete(appKey);
    if (watch.waiting.size) return;
    this.watches.delete(key);
    void watch.informer.stop();
  }
}
