import type { KubeClient } from './client.js';
import { isNotFound } from './errors.js';
import type { KubeObject } from './types.js';

/** The fields of a `coordination.k8s.io/v1` Lease that leader election reads and writes. */
export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  /** MicroTime (RFC 3339 with microseconds). */
  acquireTime?: string;
  /** MicroTime (RFC 3339 with microseconds). */
  renewTime?: string;
  leaseTransitions?: number;
}

/** Labels and annotations of a Lease (e.g. to find a group of them with a selector). */
export interface LeaseMeta {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface LeaseObject extends KubeObject {
  spec?: LeaseRecord;
}

/** A Kubernetes `MicroTime`: RFC 3339 with six fractional digits, e.g. `2026-01-02T03:04:05.123000Z`. */
export function microTime(date: Date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * One Lease object used as a compare-and-swap record: `create` fails with AlreadyExists when another
 * process created it first, `update` fails with a conflict when it changed since it was read. That
 * is what leader election needs (server-side apply without a resourceVersion would let two writers
 * both "win", so this is the one place Trellis writes with create/update instead of apply).
 *
 * @example
 *   const lock = new LeaseLock(kube, { namespace: 'trellis-system', name: 'trellis-controller' })
 *   const current = await lock.get()
 *   if (!current) await lock.create({ holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: microTime(), renewTime: microTime() })
 */
export class LeaseLock {
  readonly namespace: string;
  readonly name: string;

  constructor(
    private readonly kube: KubeClient,
    options: { namespace: string; name: string },
  ) {
    this.namespace = options.namespace;
    this.name = options.name;
  }

  private ref() {
    return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: this.namespace, name: this.name };
  }

  /** The lease, or `undefined` when it does not exist yet. */
  async get(): Promise<LeaseObject | undefined> {
    try {
      return await this.kube.get<LeaseObject>(this.ref());
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Creates the lease (with `meta`'s labels and annotations); rejects with AlreadyExists
   * (`isAlreadyExists`) when someone else did first.
   */
  create(record: LeaseRecord, meta: LeaseMeta = {}): Promise<LeaseObject> {
    return this.kube.create<LeaseObject>({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace, ...meta },
      spec: record,
    });
  }

  /**
   * Replaces the record if the lease is still at `previous`'s resourceVersion; rejects with a
   * conflict (`isConflict`) otherwise. Labels and annotations are `previous`'s unless `meta` replaces them.
   */
  update(previous: LeaseObject, record: LeaseRecord, meta: LeaseMeta = {}): Promise<LeaseObject> {
    const { labels, annotations } = previous.metadata;
    return this.kube.update<LeaseObject>({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.name,
        namespace: this.namespace,
        resourceVersion: previous.metadata.resourceVersion,
        ...(labels ? { labels } : {}),
        ...(annotations ? { annotations } : {}),
        ...meta,
      },
      spec: record,
    });
  }

  /** Deletes the lease if it is still at `previous`'s resourceVersion; `false` when it was gone, a conflict when it changed. */
  delete(previous: LeaseObject): Promise<boolean> {
    return this.kube.delete(this.ref(), { preconditions: { resourceVersion: previous.metadata.resourceVersion! } });
  }
}
