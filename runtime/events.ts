import { createHash, randomBytes } from 'node:crypto';
import { microTime, type KubeClient, type KubeObject } from '../kube/index.js';
import { messageOf } from '../lib/errors.js';
import { silentLogger, type Logger } from '../lib/log.js';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  kube: KubeClient;
  /** `reportingController`, e.g. `trellis.dev/controller`. */
  controller: string;
  /** `reportingInstance`: this replica. */
  instance: string;
  /** A repeat of the same event within this window updates its series instead of creating an Event. @default 600000 */
  seriesWindowMs?: number;
  /** Events waiting to be written beyond this are dropped (and counted in the log). @default 1000 */
  maxPending?: number;
  /**
   * Series remembered at most: beyond it the oldest are forgotten (down to 90 %), so a repeat of
   * one of those creates a new Event rather than counting in its series. @default 10000
   */
  maxSeries?: number;
  logger?: Logger;
}

interface Series {
  name: string;
  namespace: string;
  count: number;
  first: number;
  body: KubeObject;
  /** The last write about this event, so its writes stay in order while others run concurrently. */
  last: Promise<void>;
}

/** Event writes in flight at once. */
const WRITERS = 4;

/**
 * Records `events.k8s.io/v1` Events about objects — what `kubectl describe` and `kubectl events`
 * show. Repeats of the same event (same object, type, reason, action and note) within the series
 * window are aggregated into one Event whose `series.count` grows, instead of one Event each.
 * Recording never throws and never blocks a reconcile: writes happen in the background (a few at
 * once; the writes about one event in order).
 *
 * @example
 *   recorder.event(appConfig, 'Warning', 'RenderFailed', 'Render', 'trait "scaler": replicas: expected int')
 */
export class EventRecorder {
  private readonly series = new Map<string, Series>();
  private readonly pending: (() => Promise<void>)[] = [];
  private draining: Promise<void> | undefined;
  private dropped = 0;
  private readonly windowMs: number;
  private readonly maxSeries: number;
  private readonly logger: Logger;

  constructor(private readonly options: EventRecorderOptions) {
    this.windowMs = options.seriesWindowMs ?? 600_000;
    this.maxSeries = options.maxSeries ?? 10_000;
    this.logger = options.logger ?? silentLogger;
  }

  /** Records an event about `regarding`. `action` is what the controller was doing (e.g. `Apply`). */
  event(regarding: KubeObject, type: EventType, reason: string, action: string, note: string): void {
    const { name, namespace, uid } = regarding.metadata;
    if (!name) return;
    const ns = namespace ?? 'default';
    const key = createHash('sha1')
      .update(JSON.stringify([uid ?? `${ns}/${name}`, type, reason, action, note]))
      .digest('hex');
    const now = Date.now();
    const existing = this.series.get(key);
    if (existing && now - existing.first < this.windowMs) {
      existing.count++;
      const count = existing.count;
      this.enqueue(() => (existing.last = existing.last.then(() => this.writeSeries(existing, count, now))));
      return;
    }
    const body: KubeObject = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: `${name}.${randomBytes(8).toString('hex')}`, namespace: ns },
      eventTime: microTime(new Date(now)),
      reportingController: this.options.controller,
      reportingInstance: this.options.instance,
      action,
      reason,
      type,
      note: note.length > 1024 ? `${note.slice(0, 1021)}...` : note,
      regarding: {
        apiVersion: regarding.apiVersion,
        kind: regarding.kind,
        name,
        ...(namespace ? { namespace } : {}),
        ...(uid ? { uid } : {}),
      },
    };
    const entry: Series = {
      name: body.metadata.name!,
      namespace: ns,
      count: 1,
      first: now,
      body,
      last: Promise.resolve(),
    };
    // Re-inserted, so the map's order is the order series began in (what evict relies on).
    this.series.delete(key);
    this.series.set(key, entry);
    if (this.series.size > this.maxSeries) this.evict(now);
    this.enqueue(() => (entry.last = this.write(body)));
  }

  /** Resolves when every event recorded so far was written (or failed). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private enqueue(job: () => Promise<void>): void {
    if (this.pending.length >= (this.options.maxPending ?? 1000)) {
      if (this.dropped++ % 100 === 0) this.logger.warn({ dropped: this.dropped }, 'too many events pending; dropping');
      return;
    }
    this.pending.push(job);
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  private async drain(): Promise<void> {
    const lane = async () => {
      for (let job = this.pending.shift(); job; job = this.pending.shift()) await job();
    };
    await Promise.all(Array.from({ length: WRITERS }, lane));
  }

  private async write(body: KubeObject): Promise<void> {
    try {
      await this.options.kube.create(body);
    } catch (err) {
      this.logger.warn({ err: messageOf(err), reason: body.reason }, 'could not record an event');
    }
  }

  private async writeSeries(entry: Series, count: number, at: number): Promise<void> {
    if (count < entry.count) return; // a later repeat is queued and says more
    try {
      await this.options.kube.patch(
        { apiVersion: 'events.k8s.io/v1', kind: 'Event', name: entry.name, namespace: entry.namespace },
        { series: { count, lastObservedTime: microTime(new Date(at)) } },
        'merge',
      );
    } catch (err) {
      this.logger.warn({ err: messageOf(err), reason: entry.body.reason }, 'could not update an event series');
    }
  }

  /**
   * Forgets series that are over or, oldest first, beyond 90 % of `maxSeries`: each call removes
   * what it looks at but the first it keeps (the map is in the order series began).
   */
  private evict(now: number): void {
    const keep = Math.floor(this.maxSeries * 0.9);
    for (const [key, s] of this.series) {
      if (this.series.size <= keep && now - s.first < this.windowMs) break;
      this.series.delete(key);
    }
  }
}
