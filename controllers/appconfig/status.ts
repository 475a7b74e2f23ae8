import type { AdoptedObject, ApplicationConfigurationStatus, HistoryWorkload, RefusedObject, RenderFingerprint, TypedReference, WorkloadStatus } from '../../apis/generated/core.oam.dev-v1alpha2.js';
import { ANNOTATION_ADOPTED, type AppliedObject, type InventoryEntry } from '../../apply/index.js';
import type { Condition, KubeObject } from '../../kube/types.js';
import type { BoundApplication } from '../../render/index.js';
import { setCondition } from '../../status/conditions.js';
import type { Health } from '../../status/health.js';
import type { ApplicationConfiguration } from '../types.js';
import type { Gate } from './dependencies.js';

/** Condition reasons of an ApplicationConfiguration (the `Reason` column of `kubectl get appconfig`). */
export const REASONS = {
  applied: 'Applied',
  renderFailed: 'RenderFailed',
  applyFailed: 'ApplyFailed',
  pruneFailed: 'PruneFailed',
  scopeNotFound: 'ScopeNotFound',
  healthy: 'Healthy',
  unhealthy: 'Unhealthy',
  dependencyUnsatisfied: 'DependencyUnsatisfied',
  /** Something this AppConfig renders is held by someone else and was not applied (docs/adr/0010-ownership.md). */
  ownershipConflict: 'OwnershipConflict',
} as const;

export type Sync = { ok: true; message: string } | { ok: false; reason: string; message: string };

const ref = (o: KubeObject): TypedReference => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name ?? '' });

/** What the controller learnt in one pass, to be written as status. */
export interface Observation {
  sync: Sync;
  /** Absent when rendering failed: the previous workloads and inventory are kept. */
  bound?: BoundApplication;
  gate?: Gate;
  inventory?: InventoryEntry[];
  historyWorkloads?: HistoryWorkload[];
  health?: (ref: TypedReference) => Health;
  ownership?: Ownership;
  /** Recorded only for a complete pass; absent otherwise, so the next pass renders. */
  fingerprint?: RenderFingerprint;
}

export interface Ownership {
  refused: RefusedObject[];
  adopted: AdoptedObject[];
}

/**
 * `status.ownership` after an apply: what was refused, and what this AppConfig adopted — read from
 * the adoption record each adopted object carries (apply/'s ANNOTATION_ADOPTED), so nothing is
 * remembered between passes.
 */
export function ownershipOf(results: AppliedObject[]): Ownership {
  const refused = results.flatMap((r) => (r.action === 'refused' && r.refusal ? [{ reference: r.ref, holder: r.refusal.holder, message: r.refusal.message }] : []));
  const adopted = results.flatMap((r) => {
    const record = r.action === 'refused' ? undefined : r.object.metadata.annotations?.[ANNOTATION_ADOPTED];
    if (!record) return [];
    const space = record.indexOf(' ');
    return [{ reference: r.ref, from: space < 0 ? record : record.slice(space + 1), ...(space > 0 ? { time: record.slice(0, space) } : {}) }];
  });
  return { refused, adopted };
}

/**
 * The status an observation yields. Conditions keep their `lastTransitionTime` while unchanged, so an
 * unchanged pass yields an identical status (and nothing is written).
 */
export function composeStatus(app: ApplicationConfiguration, o: Observation): ApplicationConfigurationStatus {
  const previous = app.status ?? {};
  let conditions = (previous.conditions ?? []) as Condition[];
  conditions = setCondition(conditions, o.sync.ok ? { type: 'Synced', status: 'True', reason: REASONS.applied, message: o.sync.message } : { type: 'Synced', status: 'False', reason: o.sync.reason, message: o.sync.message });
  if (!o.bound || !o.gate || !o.health) {
    return { ...previous, observedGeneration: app.metadata.generation, conditions, status: 'failed' };
  }
  const { bound, gate } = o;
  // An object someone else holds is not this application's, whatever its health.
  const refused = new Map((o.ownership?.refused ?? []).map((r) => [`${r.reference.kind}/${r.reference.name}`, r.holder]));
  const health = (r: TypedReference): Health => {
    const holder = refused.get(`${r.kind}/${r.name}`);
    return holder ? { status: 'UNHEALTHY', message: `not applied: held by ${holder}` } : o.health!(r);
  };
  const workloads: WorkloadStatus[] = bound.components.map((c) => {
    const h = health(ref(c.workload.object));
    const held = gate.heldComponents.has(c.name);
    return {
      componentName: c.name,
      ...(c.revisionName ? { componentRevisionName: c.revisionName } : {}),
      ...(held ? { dependencyUnsatisfied: true } : {}),
      reference: ref(c.workload.object),
      healthy: !held && h.status === 'HEALTHY',
      status: held ? 'waiting for data inputs' : h.message,
      traits: c.traits.flatMap((t) => {
        if (!t.object) return [];
        const th = health(ref(t.object.object));
        const waits = gate.heldTraits.has(`${c.name}/${t.name}`);
        return [{ reference: ref(t.object.object), status: waits ? 'waiting' : th.status === 'HEALTHY' ? 'healthy' : th.status.toLowerCase(), message: waits ? 'waiting for data inputs' : th.message, ...(waits ? { dependencyUnsatisfied: true } : {}) }];
      }),
      scopes: c.scopes.map((s) => ({ reference: { apiVersion: s.apiVersion, kind: s.kind, name: s.name } })),
    };
  });
  const unhealthy = workloads.flatMap((w) => [
    ...(!w.dependencyUnsatisfied && !w.healthy ? [`${w.reference!.kind}/${w.reference!.name}: ${w.status}`] : []),
    ...(w.traits ?? []).filter((t) => t.status !== 'healthy' && !t.dependencyUnsatisfied).map((t) => `${t.reference!.kind}/${t.reference!.name}: ${t.message}`),
  ]);
  let ready: Condition;
  if (gate.unsatisfied.length) {
    ready = { type: 'Ready', status: 'False', reason: REASONS.dependencyUnsatisfied, message: gate.unsatisfied.map((u) => `${u.to?.kind}/${u.to?.name} waits for ${u.from?.kind}/${u.from?.name}: ${u.reason}`).join('; ') };
  } else if (unhealthy.length) {
    ready = { type: 'Ready', status: 'False', reason: REASONS.unhealthy, message: unhealthy.join('; ') };
  } else {
    ready = { type: 'Ready', status: 'True', reason: REASONS.healthy, message: workloads.length ? `${workloads.length} workload${workloads.length === 1 ? '' : 's'} healthy` : 'no components' };
  }
  conditions = setCondition(conditions, ready);
  return {
    observedGeneration: app.metadata.generation,
    conditions,
    status: !o.sync.ok ? 'failed' : gate.unsatisfied.length ? 'waiting' : unhealthy.length ? 'unhealthy' : 'running',
    // Omitted rather than `{}` when satisfied: server-side apply turns an emptied map into null, which the schema refuses.
    ...(gate.unsatisfied.length ? { dependency: { unsatisfied: gate.unsatisfied } } : {}),
    workloads,
    ...(o.historyWorkloads?.length ? { historyWorkloads: o.historyWorkloads } : {}),
    // Omitted when empty, like `dependency` (and so a status without either stays as it was).
    ...(o.ownership?.refused.length || o.ownership?.adopted.length ? { ownership: { ...(o.ownership.refused.length ? { refused: o.ownership.refused } : {}), ...(o.ownership.adopted.length ? { adopted: o.ownership.adopted } : {}) } } : {}),
    inventory: o.inventory ?? previous.inventory ?? [],
    ...(o.fingerprint ? { fingerprint: o.fingerprint } : {}),
  };
}

/** The status fields the AppConfig controller writes (and compares to decide whether to write). */
export const STATUS_FIELDS = ['observedGeneration', 'conditions', 'status', 'dependency', 'workloads', 'historyWorkloads', 'inventory', 'ownership', 'fingerprint'];
