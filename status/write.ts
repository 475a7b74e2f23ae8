import type { KubeClient } from '../kube/index.js';
import type { KubeObject } from '../kube/types.js';
import { canonicalJson } from '../lib/hash.js';

export interface StatusWriteOptions {
  /** The field manager the status is applied with (one per controller family, e.g. `trellis-status`). */
  fieldManager?: string;
  /**
   * The top-level status fields this writer manages. Only these are compared with the object's
   * status to decide whether anything needs writing, so fields others write (a custom `status`
   * string, another controller's counters) never cause a write. @default the keys of `status`
   */
  fields?: string[];
  /**
   * Write only while the object is at this resourceVersion: a 409 Conflict otherwise (someone wrote
   * it since it was read). @default written whatever the version
   */
  resourceVersion?: string;
  /**
   * What this writer last wrote, by the cached copy it was computed from. A reconcile that follows
   * its own write at once reads the same copy (the write's watch event is still on its way): that
   * copy is then compared as written, so the same status is not written again. Keyed by the cached
   * object itself, so an entry ends when the informer replaces the copy. @default none (compared
   * with `obj` as it is)
   *
   * @example
   *   private readonly written = new WeakMap<KubeObject, KubeObject>() // one per reconciler
   *   await writeStatus(kube, cached, status, { fieldManager, written: this.written })
   */
  written?: WeakMap<KubeObject, KubeObject>;
}

/**
 * The one way Trellis writes an object's status: server-side apply of `status` on the status
 * subresource with the controller's status field manager — and only when one of the managed fields
 * differs from what the (cached) object has, so an unchanged re-sync issues no write. A field left
 * out of `status` that this manager set before is removed by the API server (server-side apply);
 * fields other managers own are left alone. Returns the object as written (its new resourceVersion),
 * or `undefined` when nothing needed writing.
 *
 * @example
 *   await writeStatus(kube, trait, { conditions: setCondition(trait.status?.conditions, synced) }, { fieldManager: 'trellis-status' })
 */
export async function writeStatus(
  kube: KubeClient,
  obj: KubeObject,
  status: object,
  options: StatusWriteOptions = {},
): Promise<KubeObject | undefined> {
  const current = ((options.written?.get(obj) ?? obj).status ?? {}) as Record<string, unknown>;
  const next = status as Record<string, unknown>;
  const fields = options.fields ?? Object.keys(next);
  if (fields.every((k) => canonicalJson(next[k]) === canonicalJson(current[k]))) return undefined;
  const body: KubeObject = {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: {
      name: obj.metadata.name,
      ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
      ...(options.resourceVersion ? { resourceVersion: options.resourceVersion } : {}),
    },
    status: next,
  };
  const written = await kube.applyStatus(body, options.fieldManager ? { fieldManager: options.fieldManager } : {});
  options.written?.set(obj, written);
  return written;
}
