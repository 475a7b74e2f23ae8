import { entryKey, entryOf } from '../../apply/index.js';
import type { KubeObject } from '../../kube/index.js';

/** A child's update event that arrived while this controller's write to that child was unanswered. */
interface Held {
  version: string;
  release: () => void;
}

/**
 * The versions of children this controller wrote and vouched for in a render fingerprint (ADR
 * 0008): the watch event carrying exactly such a version is the controller's own write coming
 * back, and reconciling it would only find the fingerprint equal — or, when kube-controller-manager
 * updated the object meanwhile, render for a status change that has its own (coalesced) event. So
 * that event is dropped where it arrives. Bounded: at most `limit` versions are remembered.
 *
 * The watch event and the write's answer come on different connections, and the event may come
 * first (seen in CI on a loaded machine: the edit rendered twice). So while a write is unanswered
 * ({@link writing}), an update of that object is held: when the answer carries its version it is
 * dropped as the write's own; anything else held is released (handed on as it would have been) when
 * the writes end.
 *
 * @example
 *   const done = own.writing(keys)   // before the writes are sent
 *   own.add(written)                 // as each vouched write is answered
 *   done()                           // after: releases what was held and is not the writes' own
 *   own.take(event.object)           // in the watch: true once for that very version
 *   own.hold(event.object, release)  // in the watch: true when held for an unanswered write
 */
export class OwnWrites {
  private readonly versions = new Map<string, string>();
  private readonly unanswered = new Map<string, number>();
  private readonly held = new Map<string, Held[]>();

  /**
   * @param limit versions remembered at most (then forgotten all at once). @default 10_000
   * @param onOwn told each time an event is found to be the controller's own write.
   */
  constructor(
    private readonly limit = 10_000,
    private readonly onOwn: () => void = () => {},
  ) {}

  /**
   * Marks writes to the objects with these entry keys as sent and not yet answered; the returned
   * function ends them (call it once, after every write was answered or failed).
   */
  writing(keys: string[]): () => void {
    for (const k of keys) this.unanswered.set(k, (this.unanswered.get(k) ?? 0) + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      for (const k of keys) {
        const n = (this.unanswered.get(k) ?? 1) - 1;
        if (n > 0) {
          this.unanswered.set(k, n);
          continue;
        }
        this.unanswered.delete(k);
        const held = this.held.get(k) ?? [];
        this.held.delete(k);
        for (const h of held) h.release();
      }
    };
  }

  /** Records a vouched write's answer: its watch event (held already, or still to come) is the controller's own. */
  add(obj: KubeObject): void {
    const version = obj.metadata.resourceVersion;
    if (!version) return;
    const key = entryKey(entryOf(obj));
    const held = this.held.get(key);
    const own = held?.findIndex((h) => h.version === version) ?? -1;
    if (own >= 0) {
      held!.splice(own, 1);
      this.onOwn();
      return;
    }
    if (this.versions.size >= this.limit) this.versions.clear();
    this.versions.set(key, version);
  }

  /** Whether `obj` is a version added (forgotten then: it comes back once). */
  take(obj: KubeObject): boolean {
    const key = entryKey(entryOf(obj));
    if (!obj.metadata.resourceVersion || this.versions.get(key) !== obj.metadata.resourceVersion) return false;
    this.versions.delete(key);
    this.onOwn();
    return true;
  }

  /**
   * Holds an update of `obj` while a write to it is unanswered: `release` runs when the writes end,
   * unless the answer shows the event was the write's own. False (and nothing held) otherwise.
   */
  hold(obj: KubeObject, release: () => void): boolean {
    const version = obj.metadata.resourceVersion;
    const key = entryKey(entryOf(obj));
    if (!version || !this.unanswered.has(key)) return false;
    const held = this.held.get(key) ?? [];
    held.push({ version, release });
    this.held.set(key, held);
    return true;
  }
}
