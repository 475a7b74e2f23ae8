/**
 * What the dashboard shows, read from its caches (informers) and, for an application's children,
 * from the API server: plain data for the views.
 */
import type { ApplicationConfiguration } from '../apis/generated/core.oam.dev-v1alpha2.js';
import type { KubeClient, KubeObject } from '../kube/index.js';
import type { Condition } from '../kube/types.js';
import { LABEL_COMPONENT } from '../apis/labels.js';

export type AppConfig = ApplicationConfiguration & KubeObject;

/** One row of the applications page. */
export interface AppRow {
  namespace: string;
  name: string;
  synced: string;
  ready: string;
  /** The reason and message of the condition that is not True (Synced first), when one is not. */
  reason: string;
  created?: string;
}

/** A child object with the little a person needs to judge it. */
export interface ChildView {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  /** `2/2 ready`, `Ready`, `missing`, … */
  health: string;
  healthy: boolean | undefined;
  /** The component that rendered it (its `app.oam.dev/component` label), when it says. */
  component?: string;
}

/** A core/v1 Event, as far as the dashboard and `trellis events` show it. */
export interface EventView {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
  involvedObject?: { kind?: string; name?: string; namespace?: string };
  metadata: { creationTimestamp?: string };
}

/** When an Event last happened: lastTimestamp, else eventTime, else its creation. */
export const eventTime = (e: EventView): string => e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? '';

/** The Events about an AppConfig and the objects of its inventory (in its namespace), oldest first. */
export function appEvents<E extends EventView>(app: AppConfig, events: readonly E[]): E[] {
  const ns = app.metadata.namespace;
  const names = new Set([
    `ApplicationConfiguration/${app.metadata.name}`,
    ...(app.status?.inventory ?? []).map((e) => `${e.kind}/${e.name}`),
  ]);
  return events
    .filter(
      (e) => e.involvedObject?.namespace === ns && names.has(`${e.involvedObject?.kind}/${e.involvedObject?.name}`),
    )
    .sort((a, b) => Date.parse(eventTime(a)) - Date.parse(eventTime(b)));
}

export const condition = (app: AppConfig, type: string): Condition | undefined =>
  app.status?.conditions?.find((c) => c.type === type);

export function appRow(app: AppConfig): AppRow {
  const synced = condition(app, 'Synced');
  const ready = condition(app, 'Ready');
  const bad = synced?.status !== 'True' ? synced : ready?.status !== 'True' ? ready : undefined;
  return {
    namespace: app.metadata.namespace ?? '',
    name: app.metadata.name ?? '',
    synced: synced?.status ?? 'Unknown',
    ready: ready?.status ?? 'Unknown',
    reason: bad ? [bad.reason, bad.message].filter(Boolean).join(': ') : '',
    ...(app.metadata.creationTimestamp ? { created: app.metadata.creationTimestamp } : {}),
  };
}

/** The live object of an inventory entry, judged: replicas ready, a Ready condition, or just present. */
export async function childView(
  kube: KubeClient,
  ref: { apiVersion: string; kind: string; name: string; namespace?: string },
): Promise<ChildView> {
  const live = await kube.getOrNull(ref).catch(() => undefined);
  if (!live) return { ...ref, health: 'missing', healthy: false };
  const component = live.metadata.labels?.[LABEL_COMPONENT];
  if (component) return { ...judge(live), ...ref, component };
  return { ...judge(live), ...ref };
}

function judge(live: KubeObject): Pick<ChildView, 'health' | 'healthy'> {
  const status = (live.status ?? {}) as { replicas?: number; readyReplicas?: number; conditions?: Condition[] };
  const spec = (live.spec ?? {}) as { replicas?: number };
  if (typeof spec.replicas === 'number') {
    const ready = status.readyReplicas ?? 0;
    return { health: `${ready}/${spec.replicas} ready`, healthy: ready >= spec.replicas };
  }
  const readyCondition = status.conditions?.find((c) => c.type === 'Ready');
  if (readyCondition) return { health: `Ready=${readyCondition.status}`, healthy: readyCondition.status === 'True' };
  return { health: 'present', healthy: undefined };
}
