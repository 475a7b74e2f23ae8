import type {
  AdoptedObject,
  ApplicationConfigurationStatus,
  HistoryWorkload,
  RefusedObject,
  RenderFingerprint,
  TypedReference,
  WorkloadStatus,
  WorkloadTraitStatus,
} from '../../apis/generated/core.oam.dev-v1alpha2.js';
import {
  ANNOTATION_ADOPTED,
  ANNOTATION_PRUNED_FIELDS,
  type AppliedObject,
  type InventoryEntry,
} from '../../apply/index.js';
import type { Condition, KubeObject } from '../../kube/types.js';
import type { BoundApplication } from '../../render/index.js';
import { setCondition } from '../../status/conditions.js';
import { handledRequest, withoutSuspended } from '../../status/suspend.js';
import type { Health } from '../../status/health.js';
import type { ApplicationConfiguration } from '../types.js';
import type { Gate } from './dependencies.js';

/**
 * Trellis' reasons (Events, `status.syncReason`, the Ready condition; the `Reason` column of
 * `kubectl get appconfig`). The Synced condition itself carries upstream's reasons ({@link SYNCED}).
 */
export const REASONS = {
  applied: 'Applied',
  renderFailed: 'RenderFailed',
  applyFailed: 'ApplyFailed',
  pruneFailed: 'PruneFailed',
  scopeNotFound: 'ScopeNotFound',
  kindNotServed: 'KindNotServed',
  healthy: 'Healthy',
  unhealthy: 'Unhealthy',
  dependencyUnsatisfied: 'DependencyUnsatisfied',
  /** Something this AppConfig renders is held by someone else and was not applied (docs/adr/0010-ownership.md). */
  ownershipConflict: 'OwnershipConflict',
} as const;

/** The Synced condition's reasons, as upstream's runtime (crossplane-runtime) writes them. */
export const SYNCED = { success: 'ReconcileSuccess', error: 'ReconcileError' } as const;

/** Upstream's message on a trait that has no TraitDefinition (it is applied all the same). */
export const NO_TRAIT_DEFINITION =
  'No valid TraitDefinition found, all framework capabilities will work as default or disabled';

/** The `Synced` verdict: applied, or why not (a Trellis reason, kept in `status.syncReason`) and whether retrying may help. */
export type Sync = { ok: true; message: string } | { ok: false; reason: string; message: string; retry: boolean };

/**
 * The status fields the AppConfig controller writes (and compares to decide whether to write).
 * Upstream's `status` placeholders are not among them: they belong to other controllers.
 */
export const STATUS_FIELDS = [
  'observedGeneration',
  'conditions',
  'phase',
  'syncReason',
  'dependency',
  'workloads',
  'historyWorkloads',
  'ownership',
  'inventory',
  'fingerprint',
  'lastHandledReconcileAt',
];

const ref = (o: KubeObject): TypedReference => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  name: o.metadata.name ?? '',
});
const sameRef = (a: TypedReference | undefined, b: TypedReference) =>
  !!a && a.apiVersion === b.apiVersion && a.kind === b.kind && a.name === b.name;

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
  const refused = results.flatMap((r) =>
    r.action === 'refused' && r.refusal
      ? [{ reference: r.ref, holder: r.refusal.holder, message: r.refusal.message }]
      : [],
  );
  const adopted = results.flatMap((r) => {
    const record =
      r.action === 'refused' || r.action === 'failed'
        ? undefined
        : r.object?.metadata.annotations?.[ANNOTATION_ADOPTED];
    if (!record) return [];
    const space = record.indexOf(' ');
    return [
      {
        reference: r.ref,
        from: space < 0 ? record : record.slice(space + 1),
        ...(space > 0 ? { time: record.slice(0, space) } : {}),
      },
    ];
  });
  return { refused, adopted };
}

/** Fields pruned because the object's schema does not declare them, per object (apply/'s record on each). */
export function prunedOf(results: AppliedObject[]): { object: string; fields: string[] }[] {
  return results.flatMap((r) => {
    const fields =
      r.action === 'refused' || r.action === 'failed'
        ? undefined
        : r.object?.metadata.annotations?.[ANNOTATION_PRUNED_FIELDS];
    return fields ? [{ object: `${r.ref.kind}/${r.ref.name}`, fields: fields.split(',') }] : [];
  });
}

/**
 * The status an observation yields: only the fields in {@link STATUS_FIELDS}, so what other
 * controllers wrote (upstream's `status` strings, here and on each workload, trait and scope) is
 * kept. Conditions keep their `lastTransitionTime` while unchanged, so an unchanged pass yields an
 * identical status (and nothing is written).
 */
export function composeStatus(app: ApplicationConfiguration, o: Observation): ApplicationConfigurationStatus {
  const previous = app.status ?? {};
  let conditions = withoutSuspended(previous.conditions);
  conditions = setCondition(
    conditions,
    o.sync.ok
      ? { type: 'Synced', status: 'True', reason: SYNCED.success, message: o.sync.message }
      : { type: 'Synced', status: 'False', reason: SYNCED.error, message: o.sync.message },
  );
  const syncReason = o.sync.ok ? REASONS.applied : o.sync.reason;
  if (!o.bound || !o.gate || !o.health) {
    // Nothing rendered: what was known stays.
    const { dependency, workloads, historyWorkloads, ownership, inventory } = previous;
    return {
      observedGeneration: app.metadata.generation,
      conditions,
      phase: 'failed',
      syncReason,
      ...(dependency ? { dependency } : {}),
      ...(workloads ? { workloads } : {}),
      ...(historyWorkloads ? { historyWorkloads } : {}),
      ...(ownership ? { ownership } : {}),
      inventory: inventory ?? [],
      ...handledRequest(app),
    };
  }
  const { bound, gate } = o;
  // An object someone else holds is not this application's, whatever its health.
  const refused = new Map(
    (o.ownership?.refused ?? []).map((r) => [`${r.reference.kind}/${r.reference.name}`, r.holder]),
  );
  const health = (r: TypedReference): Health => {
    const holder = refused.get(`${r.kind}/${r.name}`);
    return holder ? { status: 'UNHEALTHY', message: `not applied: held by ${holder}` } : o.health!(r);
  };
  const workloads: WorkloadStatus[] = bound.components.map((c) => {
    const wref = ref(c.workload.object);
    const before = previous.workloads?.find((w) => w.componentName === c.name && sameRef(w.workloadRef, wref));
    const h = health(wref);
    const held = gate.heldComponents.has(c.name);
    return {
      componentName: c.name,
      ...(c.revisionName ? { componentRevisionName: c.revisionName } : {}),
      workloadRef: wref,
      ...(before?.status ? { status: before.status } : {}),
      healthy: !held && h.status === 'HEALTHY',
      message: held ? 'waiting for data inputs' : h.message,
      ...(held ? { dependencyUnsatisfied: true } : {}),
      traits: c.traits.flatMap((t): WorkloadTraitStatus[] => {
        if (!t.object) return [];
        const tref = ref(t.object.object);
        const th = health(tref);
        const waits = gate.heldTraits.has(`${c.name}/${t.name}`);
        const kept = before?.traits?.find((x) => sameRef(x.traitRef, tref))?.status;
        const message = waits ? 'waiting for data inputs' : !t.definition ? NO_TRAIT_DEFINITION : th.message;
        return [
          {
            traitRef: tref,
            ...(kept ? { status: kept } : {}),
            healthy: !waits && th.status === 'HEALTHY',
            message,
            ...(waits ? { dependencyUnsatisfied: true } : {}),
          },
        ];
      }),
      scopes: c.scopes.map((s) => {
        const sref = { apiVersion: s.apiVersion, kind: s.kind, name: s.name };
        const kept = before?.scopes?.find((x) => sameRef(x.scopeRef, sref))?.status;
        return { scopeRef: sref, ...(kept ? { status: kept } : {}) };
      }),
    };
  });
  const unhealthy = workloads.flatMap((w) => {
    return [
      ...(!w.dependencyUnsatisfied && !w.healthy
        ? [`${w.workloadRef!.kind}/${w.workloadRef!.name}: ${w.message}`]
        : []),
      ...(w.traits ?? [])
        .filter((t) => !t.healthy && !t.dependencyUnsatisfied)
        .map((t) => `${t.traitRef!.kind}/${t.traitRef!.name}: ${health(t.traitRef!).message}`),
    ];
  });
  let ready: Condition;
  if (gate.unsatisfied.length) {
    ready = {
      type: 'Ready',
      status: 'False',
      reason: REASONS.dependencyUnsatisfied,
      message: gate.unsatisfied
        .map((u) => `${u.to?.kind}/${u.to?.name} waits for ${u.from?.kind}/${u.from?.name}: ${u.reason}`)
        .join('; '),
    };
  } else if (unhealthy.length) {
    ready = { type: 'Ready', status: 'False', reason: REASONS.unhealthy, message: unhealthy.join('; ') };
  } else {
    ready = {
      type: 'Ready',
      status: 'True',
      reason: REASONS.healthy,
      message: workloads.length
        ? `${workloads.length} workload${workloads.length === 1 ? '' : 's'} healthy`
        : 'no components',
    };
  }
  conditions = setCondition(conditions, ready);
  return {
    observedGeneration: app.metadata.generation,
    conditions,
    phase: !o.sync.ok ? 'failed' : gate.unsatisfied.length ? 'waiting' : unhealthy.length ? 'unhealthy' : 'running',
    syncReason,
    // Omitted rather than `{}` when satisfied: server-side apply turns an emptied map into null, which the schema refuses.
    ...(gate.unsatisfied.length ? { dependency: { unsatisfied: gate.unsatisfied } } : {}),
    workloads,
    ...(o.historyWorkloads?.length ? { historyWorkloads: o.historyWorkloads } : {}),
    // Omitted when empty, like `dependency` (and so a status without either stays as it was).
    ...(o.ownership?.refused.length || o.ownership?.adopted.length
      ? {
          ownership: {
            ...(o.ownership.refused.length ? { refused: o.ownership.refused } : {}),
            ...(o.ownership.adopted.length ? { adopted: o.ownership.adopted } : {}),
          },
        }
      : {}),
    inventory: o.inventory ?? previous.inventory ?? [],
    ...(o.fingerprint ? { fingerprint: o.fingerprint } : {}),
    ...handledRequest(app),
  };
}

/**
 * `status` with upstream's `status` placeholders taken from `fresh` (the API server's copy) where
 * `status` has none: traits and scopes are atomic lists, so a write from a cache that had not yet
 * seen another controller's placeholder would remove it.
 */
export function withPlaceholders(
  status: ApplicationConfigurationStatus,
  fresh: ApplicationConfigurationStatus | undefined,
): ApplicationConfigurationStatus {
  if (!fresh?.workloads?.length || !status.workloads) return status;
  const workloads = status.workloads.map((w) => {
    const f = fresh.workloads!.find(
      (x) => x.componentName === w.componentName && !!w.workloadRef && sameRef(x.workloadRef, w.workloadRef),
    );
    if (!f) return w;
    const traits = w.traits?.map((t) => {
      const kept =
        t.status ?? (t.traitRef ? f.traits?.find((x) => sameRef(x.traitRef, t.traitRef!))?.status : undefined);
      return kept ? { ...t, status: kept } : t;
    });
    const scopes = w.scopes?.map((sc) => {
      const kept =
        sc.status ?? (sc.scopeRef ? f.scopes?.find((x) => sameRef(x.scopeRef, sc.scopeRef!))?.status : undefined);
      return kept ? { ...sc, status: kept } : sc;
    });
    return { ...w, ...(traits ? { traits } : {}), ...(scopes ? { scopes } : {}) };
  });
  return { ...status, workloads };
}
