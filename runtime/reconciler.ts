import type { Priority } from './queue.js';
import type { Logger } from '../lib/log.js';

/** What to reconcile: one object, by namespace (absent for cluster-scoped kinds) and name. */
export interface Request {
  namespace?: string;
  name: string;
}

/** What a reconcile asks for next. An empty result means "done until something changes". */
export interface Result {
  /** Reconcile this key again after this many ms (e.g. to poll something that does not send events). */
  requeueAfter?: number;
  /**
   * The lane the key's next reconciles queue in (the work queue's two lanes). `low` for an object
   * known to wait on something outside it that no ordinary change fixes (e.g. a kind the API
   * server does not serve): events for it then queue as background work — handed out one at a
   * time, only while no normal key waits or runs (or once it waited the queue's aging bound, 5 s) —
   * so it cannot sit ahead of, or crowd, fresh work. Kept until a reconcile returns without it (or
   * fails). @default 'normal'
   */
  priority?: Priority;
}

/** Handed to every reconcile call. */
export interface ReconcileContext {
  /** Aborted when the manager stops or loses leadership: stop at the next safe point. */
  signal: AbortSignal;
  /** A child logger with `controller` and `key` bound. */
  logger: Logger;
  /** How many times in a row this key failed before (0 on a fresh attempt). */
  retries: number;
  /**
   * Set on the first passes of a key whose shard this replica just took over, until one succeeds:
   * the informer caches may still lag the last writes of the replica that held it (a hand-over takes
   * milliseconds; a replica that just started may take seconds to catch up). Read what is about to be
   * written from the API server, so a write is not judged on, and made conditional on, a stale copy.
   * @default false
   */
  verify?: boolean;
}

/**
 * The contract every controller implements (controller-runtime's `reconcile.Reconciler`):
 * look at the object named by `req` as it is now, make the world match it, return.
 *
 * - Return normally: success; the key's backoff is reset. `requeueAfter` schedules another pass.
 * - Throw: the key is retried with exponential backoff (per key).
 * - Throw a {@link TerminalError}: logged and counted, not retried until the object changes again.
 *
 * Reconcile must be idempotent and must not assume it saw every event: it is called with a key,
 * not with the change. The runtime never runs two reconciles of one key at once.
 *
 * @example
 *   const reconciler: Reconciler = {
 *     async reconcile(ctx, req) {
 *       const obj = informer.get(req.name, req.namespace)
 *       if (!obj) return {}
 *       ...
 *       return {}
 *     },
 *   }
 */
export interface Reconciler {
  reconcile(ctx: ReconcileContext, req: Request): Promise<Result | void>;
}

/** A failure that retrying cannot fix (invalid spec, missing permission by design). Not retried. */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

export function isTerminal(err: unknown): boolean {
  return err instanceof TerminalError;
}

/** The queue key of a request: `namespace/name`, or `name` for cluster-scoped objects. */
export function keyOf(req: Request): string {
  return req.namespace ? `${req.namespace}/${req.name}` : req.name;
}

/** The request for a queue key made by {@link keyOf}. */
export function requestOf(key: string): Request {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** The request naming an object. */
export function requestFor(obj: { metadata: { name?: string; namespace?: string } }): Request {
  return obj.metadata.namespace
    ? { namespace: obj.metadata.namespace, name: obj.metadata.name ?? '' }
    : { name: obj.metadata.name ?? '' };
}
