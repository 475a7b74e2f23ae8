import { changedBeyondStatus, isReplay, type MapFunction, type Request } from '../../runtime/index.js';
import type { KubeObject } from '../../kube/index.js';
import type { OwnWrites } from './own-writes.js';

export interface ChildEventsOptions {
  /** The AppConfigs a child belongs to (its app label). */
  owners: (child: KubeObject) => Request[];
  /** The controller's own vouched writes (their watch events are dropped). */
  own: Pick<OwnWrites, 'take' | 'hold'>;
  /** Where status-only changes wait for their burst to end; undefined: they reconcile at once. */
  coalesce?: (req: Request) => void;
  /** The controller's queue, for what was held and is released later. */
  enqueue: (req: Request) => void;
}

/**
 * What a child's watch event wakes (ADR 0008):
 * - a periodic resync replay: its AppConfigs, which the controller queues in the low lane — never
 *   through the coalescer, whose passes queue at normal priority (a 10-minute resync of 8,000
 *   children would otherwise put 1,000 normal passes ahead of the next edit), and without comparing
 *   an object with itself;
 * - the controller's own vouched write coming back: nothing (held while its answer is on the way);
 * - a change of status (or field ownership) alone: its AppConfigs once the burst is quiet;
 * - anything else (a create, a delete, drift): its AppConfigs at once.
 *
 * @example
 *   controller.watch({ ...spec, map: childEvents({ owners, own, coalesce: (r) => c.add(r), enqueue }) })
 */
export function childEvents(o: ChildEventsOptions): MapFunction {
  const route: MapFunction = (obj, event) => {
    if (!o.coalesce || changedBeyondStatus.check(event).ok) return o.owners(obj);
    for (const req of o.owners(obj)) o.coalesce(req);
    return [];
  };
  return (obj, event) => {
    if (event.type !== 'update' || isReplay(event)) return o.owners(obj);
    if (o.own.take(obj)) return [];
    // Its write's answer not back yet: held until it is (then dropped when it is that write's own).
    const release = () => {
      for (const req of route(obj, event)) o.enqueue(req);
    };
    return o.own.hold(obj, release) ? [] : route(obj, event);
  };
}
