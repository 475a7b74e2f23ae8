import { randomBytes } from 'node:crypto';
import type { KubeClient } from '../kube/index.js';
import { silentLogger, type Logger } from '../lib/log.js';

/** The object an Event is about. */
export interface EventSubject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid?: string;
}

/**
 * Writes core/v1 Events (what `kubectl describe` shows) without waiting for them: a failed Event
 * is logged, never an error of the caller.
 */
export class EventRecorder {
  private readonly logger: Logger;

  constructor(private readonly kube: KubeClient, private readonly component: string, logger?: Logger) {
    this.logger = logger ?? silentLogger;
  }

  record(subject: EventSubject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const now = new Date().toISOString();
    void this.kube
      .create({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${subject.name}.${Date.now().toString(16)}${randomBytes(3).toString('hex')}`, namespace: subject.namespace },
        involvedObject: { apiVersion: subject.apiVersion, kind: subject.kind, name: subject.name, namespace: subject.namespace, ...(subject.uid ? { uid: subject.uid } : {}) },
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
      .catch((err: unknown) => this.logger.warn({ reason, subject: `${subject.kind}/${subject.namespace}/${subject.name}`, err: String(err) }, 'could not record event'));
  }
}
