import { entryKey, entryOf } from '../../apply/index.js';
import type { KubeObject } from '../../kube/index.js';

/**
 * The versions of children this controller wrote and vouched for in a render fingerprint (ADR
 * 0008): the watch event carrying exactly such a version is the controller's own write coming
 * back, and reconciling it would only find the fingerprint equal — or, when kube-controller-manager
 * updated the object meanwhile, render for a status change that has its own (coalesced) event. So
 * that event is dropped where it arrives. Bounded: at most `limit` versions are remembered.
 *
 * @example
 *   own.add(written)            // in the reconcile, for a vouched write
 *   own.take(event.object)      // in the watch: true once for that very version
 */
export class OwnWrites {
  private readonly versions = new Map<string, string>();

  constructor(private readonly limit = 10_000) {}

  add(obj: KubeObject): void {
    if (!obj.metadata.resourceVersion) return;
    if (this.versions.size >= this.limit) this.versions.clear();
    this.versions.set(entryKey(entryOf(obj)), obj.metadata.resourceVersion);
  }

  /** Whether `obj` is a version added (forgotten then: it comes back once). */
  take(obj: KubeObject): boolean {
    const key = entryKey(entryOf(obj));
    if (!obj.metadata.resourceVersion || this.versions.get(key) !== obj.metadata.resourceVersion) return false;
    this.versions.delete(key);
    return true;
  }
}
