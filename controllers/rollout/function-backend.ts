import type {
  Function as FunctionObject,
  FunctionRevision,
  TrafficTarget,
} from '../../apis/generated/serverless.trellis.dev-v1alpha1.js';
import { hasFieldSets, type Informer, type KubeClient, type KubeObject } from '../../kube/index.js';
import { refOf } from '../../kube/types.js';
import { TrellisError } from '../../lib/errors.js';
import type { Health } from '../../status/health.js';
import type { TrafficBackend } from './backend.js';
import { plannedSteps } from './steps.js';
import { ROLLOUT_FIELD_MANAGER, type Rollout, type RolloutStatus } from './types.js';

/** The Function kind the rollout trait splits traffic of (its own revisions, in the activator). */
export const FUNCTION_KIND = { apiVersion: 'serverless.trellis.dev/v1alpha1', kind: 'Function' } as const;
/** The FunctionRevisions of a Function carry its name under this label (the serverless runtime's). */
export const LABEL_FUNCTION = 'serverless.trellis.dev/function';

export interface FunctionBackendOptions {
  kube: KubeClient;
  rollout: Rollout;
  /** Functions (labelled `app.oam.dev/name`). */
  functions: Informer<KubeObject>;
  /** FunctionRevisions (labelled with their Function). */
  revisions: Informer<KubeObject>;
}

type Fn = FunctionObject & KubeObject;
type Revision = FunctionRevision & KubeObject;

/**
 * A Function's traffic split, Knative's way: its revisions are the Function's own
 * (`hello-00002`, made by the Function controller from each spec change), the target is the newest
 * one once the controller has seen the current spec, and the weights go to `spec.traffic` (the
 * only field written, with field manager `trellis-rollout`), which the activators serve. The new
 * revision is tagged (`canary`, or `preview` for blue-green), so it has an address of its own.
 */
export function functionBackend(o: FunctionBackendOptions): TrafficBackend {
  const { rollout } = o;
  const ns = rollout.metadata.namespace!;
  const fnName = rollout.spec!.workloadRef!.name;
  const fn = o.functions.get(fnName, ns) as Fn | undefined;
  const revision = (name: string | undefined) =>
    name ? (o.revisions.get(name, ns) as Revision | undefined) : undefined;
  // Until the Function controller has seen the current spec, its newest revision may be stale: keep
  // the Rollout's own target (its traffic writes change the spec too, without making a revision).
  const current = !!fn && fn.status?.observedGeneration === fn.metadata.generation;
  const known = rollout.status?.canaryRevision ?? rollout.status?.stableRevision;
  return {
    target: current ? fn.status?.latestCreatedRevisionName : known,
    waiting: fn
      ? `waiting for the Function controller to make the revision of Function ${fnName}'s generation ${fn.metadata.generation}`
      : `waiting for Function ${fnName}`,
    health: (name) => revisionHealth(revision(name)),
    exists: (name) => !!revision(name) && !revision(name)!.metadata.deletionTimestamp,
    write: (status) => writeTraffic(o, fn, status),
    activatorSeries: (name) => ({ namespace: ns, function: fnName, revision: name }),
  };
}

/** Ready once it has had a ready instance (for good: a revision at zero still serves, the activator wakes it). */
function revisionHealth(r: Revision | undefined): Health {
  if (!r) return { status: 'UNKNOWN', message: 'the revision does not exist yet' };
  const ready = r.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status === 'True') return { status: 'HEALTHY', message: ready.message ?? ready.reason ?? 'ready' };
  return { status: 'UNHEALTHY', message: ready?.message ?? 'not ready yet' };
}

/** The traffic split of `status`: stable and new revision by name, the new one tagged. */
export function trafficOf(rollout: Rollout, status: RolloutStatus): TrafficTarget[] {
  const canary =
    status.canaryRevision && status.abortedRevision !== status.canaryRevision ? status.canaryRevision : undefined;
  const blueGreen = plannedSteps(rollout.spec!)[0]?.preview === true;
  return (status.weights ?? []).map((w) => ({
    revisionName: w.revision,
    percent: w.weight,
    ...(w.revision === canary ? { tag: blueGreen ? 'preview' : 'canary' } : {}),
  }));
}

async function writeTraffic(o: FunctionBackendOptions, fn: Fn | undefined, status: RolloutStatus): Promise<void> {
  if (!fn) return;
  // Who owns spec.traffic is in managedFields' field sets, which the informer cache does not keep.
  const owner = trafficOwner(hasFieldSets(fn) ? fn : await o.kube.get<Fn>(refOf(fn)));
  if (owner) {
    throw new TrellisError(
      'TRL_ROLLOUT_TRAFFIC_OWNED',
      `Function ${fn.metadata.name}'s spec.traffic is set by "${owner}" (the component's \`traffic\` property?): remove it, the rollout trait writes the split`,
      { object: `Rollout/${o.rollout.metadata.namespace}/${o.rollout.metadata.name}`, field: 'spec.workloadRef' },
    );
  }
  const traffic = trafficOf(o.rollout, status);
  if (!traffic.length || JSON.stringify(fn.spec?.traffic) === JSON.stringify(traffic)) return;
  await o.kube.apply(
    {
      apiVersion: fn.apiVersion,
      kind: fn.kind,
      metadata: { name: fn.metadata.name, namespace: fn.metadata.namespace },
      spec: { traffic },
    },
    { fieldManager: ROLLOUT_FIELD_MANAGER },
  );
}

/** Another field manager owning `spec.traffic` of the Function, if any. */
function trafficOwner(fn: Fn): string | undefined {
  for (const entry of (fn.metadata.managedFields ?? []) as {
    manager?: string;
    fieldsV1?: { 'f:spec'?: Record<string, unknown> };
  }[]) {
    if (entry.fieldsV1?.['f:spec']?.['f:traffic'] !== undefined && entry.manager !== ROLLOUT_FIELD_MANAGER)
      return entry.manager;
  }
  return undefined;
}
