import type { KubeClient } from '../kube/client.js';
import type { KubeObject } from '../kube/types.js';
import type { Logger } from '../lib/log.js';

/** Where a reconciler reports what happened to an object, for `kubectl describe` / `get events`. */
export interface EventSink {
  event(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

/** Writes core/v1 Events; a failed write is logged, never thrown (events are best effort). */
export class KubeEventSink implements EventSink {
  constructor(private readonly kube: KubeClient, private readonly component: string, private readonly logger?: Logger) {}

  async event(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const now = new Date().toISOString();
    const namespace = obj.metadata.namespace ?? 'default';
    await this.kube
      .create({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${obj.metadata.name}.`, namespace },
        involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion },
        reason,
        message: message.slice(0, 1024),
        type,
        source: { component: this.component },
        reportingComponent: this.component,
        reportingInstance: this.component,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      })
      .catch((err: unknown) => this.logger?.warn({ err: (err as Error).message, reason }, 'cannot record event'));
  }
}
