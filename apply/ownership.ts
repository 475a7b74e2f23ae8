import { ANNOTATION_ADOPT, ANNOTATION_OWNER } from '../apis/labels.js';
import { describeRef, type KubeObject, type OwnerReference } from '../kube/types.js';
import { describeOwnerId, ownerId, type Owner } from './labels.js';
import { isRecord } from '../lib/is-record.js';

/** One entry of `metadata.managedFields`. */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: 'Apply' | 'Update';
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

/**
 * What an owner may do with an object, judged from its live copy before every write:
 * - `absent`: create it (only if still absent: see the Applier);
 * - `ours`: this owner created (or adopted) it; apply;
 * - `adoptable`: made outside any owner, and annotated ({@link ANNOTATION_ADOPT}) to let this owner
 *   take it; `managers` are the field managers whose fields pass to the owner;
 * - `held`: someone else's; leave it alone and say whose.
 */
export type Verdict =
  | { state: 'absent' }
  | { state: 'ours' }
  | { state: 'adoptable'; from: string; managers: string[] }
  | { state: 'held'; refusal: Refusal };

/** Why an object was not applied: who holds it, in a sentence a person can act on. */
export interface Refusal {
  /** Who holds it: `ApplicationConfiguration/ns/a1`, or `made by hand (field manager "kubectl-create")`. */
  holder: string;
  /** `[TRL_OWNERSHIP_CONFLICT] Deployment/ns/web: exists and is not …: it is controlled by …; …`. */
  message: string;
}

/** Field managers of Kubernetes' own components: never "the hand" that made an object. */
const SYSTEM_MANAGERS = /^(kube-controller-manager|kube-scheduler|kubelet|kube-apiserver)$|-controller$/;

/**
 * Judges `live` for `owner`, about to apply `desired`. The object is the owner's when it carries the
 * owner's mark or is controlled by the owner's uid — and no other controller holds it (an owner
 * reference with `controller: true` other than the one `desired` sets). An object without a
 * controller and without any owner's mark was made outside Trellis' owners (by hand, or another
 * tool): it is adoptable only when annotated for this owner.
 */
export function judge(live: KubeObject | undefined, desired: KubeObject, owner: Owner): Verdict {
  if (!live) return { state: 'absent' };
  const id = ownerId(owner);
  const mark = live.metadata.annotations?.[ANNOTATION_OWNER];
  const controller = live.metadata.ownerReferences?.find((r) => r.controller);
  const expected = desired.metadata.ownerReferences?.find((r) => r.controller)?.uid;
  const claimed = mark === id || (!!owner.uid && controller?.uid === owner.uid);
  if (claimed && (!controller || controller.uid === expected)) return { state: 'ours' };
  const what = describeRef(live);
  const whose = `${describeOwnerId(id)}${owner.uid ? ` (UID "${owner.uid}")` : ''}`;
  const refuse = (holder: string, because: string, fix: string): Verdict => ({
    state: 'held',
    refusal: {
      holder,
      message: `[TRL_OWNERSHIP_CONFLICT] ${what}: exists and is not controlled by ${whose}: ${because}; ${fix}`,
    },
  });
  if (controller) {
    const holder = controllerName(controller, live);
    if (controller.kind === owner.kind && controller.name === owner.name) {
      return refuse(
        `${holder} (UID "${controller.uid}")`,
        `it is controlled by an earlier ${holder} (UID "${controller.uid}"), which is being deleted`,
        'it is applied again once the garbage collector has removed it',
      );
    }
    return refuse(
      holder,
      `it is controlled by ${holder}`,
      `it passes to ${describeOwnerId(id)} once ${holder} lets go of it (deleted, or no longer rendering it)`,
    );
  }
  if (mark) {
    const holder = describeOwnerId(mark);
    return refuse(
      holder,
      `it belongs to ${holder} (annotation ${ANNOTATION_OWNER})`,
      `it passes to ${describeOwnerId(id)} once ${holder} lets go of it`,
    );
  }
  const managers = handManagers(live);
  const quoted = managers.map((m) => `"${m}"`).join(', ');
  const from = `made by hand (${managers.length ? `field manager${managers.length > 1 ? 's' : ''} ${quoted}` : 'no field manager recorded'})`;
  if (adoptionNames(live.metadata.annotations?.[ANNOTATION_ADOPT], owner, live.metadata.namespace))
    return { state: 'adoptable', from, managers };
  const shortOwner =
    owner.namespace && owner.namespace === live.metadata.namespace ? `${owner.kind}/${owner.name}` : id;
  const target = `${live.kind.toLowerCase()} ${live.metadata.name}${live.metadata.namespace ? ` -n ${live.metadata.namespace}` : ''}`;
  const fix = `delete it or give it another name, or let ${describeOwnerId(id)} adopt it: kubectl annotate ${target} ${ANNOTATION_ADOPT}=${shortOwner}`;
  return refuse(from, `it was ${from}`, fix);
}

/**
 * Judges `live` for a person applying it by hand (`trellis apply`): what no owner and no controller
 * holds is theirs to change; an owner's or a controller's object is changed through its owner.
 */
export function judgeForPerson(live: KubeObject | undefined): Verdict {
  if (!live) return { state: 'absent' };
  const mark = live.metadata.annotations?.[ANNOTATION_OWNER];
  const controller = live.metadata.ownerReferences?.find((r) => r.controller);
  if (!controller && !mark) return { state: 'ours' };
  const holder = controller ? controllerName(controller, live) : describeOwnerId(mark!);
  const message =
    `[TRL_OWNERSHIP_CONFLICT] ${describeRef(live)}: is controlled by ${holder}, which would undo a change made here: ` +
    `change it through ${holder} (its Component, or its GitSync's repository)`;
  return { state: 'held', refusal: { holder, message } };
}

/** `Kind/namespace/name` of an object's controller (it lives in the object's namespace). */
function controllerName(controller: OwnerReference, live: KubeObject): string {
  return `${controller.kind}/${live.metadata.namespace ? `${live.metadata.namespace}/` : ''}${controller.name}`;
}

/**
 * The field managers that wrote the object itself (not a subresource such as `status`), without
 * Kubernetes' own components: who made it by hand. All of them when only components wrote it.
 * Sorted by name, so messages and status name them the same way every time: the API server's
 * order of `managedFields` entries is not stable (entries written in the same second swap places).
 * Example: `["kubectl-annotate", "kubectl-create"]`.
 */
export function handManagers(live: KubeObject): string[] {
  const entries = (live.metadata.managedFields ?? []) as ManagedFieldsEntry[];
  const names = entries.filter((e) => !e.subresource && e.manager).map((e) => e.manager!);
  const main = [...new Set(names)].sort();
  const hands = main.filter((m) => !SYSTEM_MANAGERS.test(m));
  return hands.length ? hands : main;
}

/**
 * Whether the adoption annotation's value names `owner`: its full mark (`Kind.group/namespace/name`),
 * or `Kind/name` (kind case-insensitive) for an owner in the object's own namespace.
 */
export function adoptionNames(value: string | undefined, owner: Owner, namespace: string | undefined): boolean {
  if (!value) return false;
  const wanted = value.trim();
  if (wanted === ownerId(owner)) return true;
  const [kind, name, ...rest] = wanted.split('/');
  return (
    !rest.length &&
    !!name &&
    kind?.toLowerCase() === owner.kind.toLowerCase() &&
    name === owner.name &&
    (owner.namespace ?? '') === (namespace ?? '')
  );
}

/**
 * `managedFields` with the fields of the entries `take` picks (of the object itself, at `apiVersion`)
 * handed to `manager` as one `Apply` entry (merged with the one it has), so that the owner's next
 * server-side apply removes whatever of them it does not render. Other entries stay as they are.
 * `undefined` when nothing is to be taken.
 */
export function takeOverFields(
  entries: ManagedFieldsEntry[],
  take: (e: ManagedFieldsEntry) => boolean,
  manager: string,
  apiVersion: string,
  now: string,
): ManagedFieldsEntry[] | undefined {
  const own = (e: ManagedFieldsEntry) =>
    e.manager === manager && e.operation === 'Apply' && !e.subresource && e.apiVersion === apiVersion;
  const taken = entries.filter((e) => !own(e) && !e.subresource && e.apiVersion === apiVersion && take(e));
  if (!taken.length) return undefined;
  const fields = [...entries.filter(own), ...taken].reduce<Record<string, unknown>>(
    (all, e) => unionFields(all, e.fieldsV1 ?? {}),
    {},
  );
  const kept = entries.filter((e) => !own(e) && !taken.includes(e));
  return [{ manager, operation: 'Apply', apiVersion, time: now, fieldsType: 'FieldsV1', fieldsV1: fields }, ...kept];
}

/** The union of two `fieldsV1` sets (nested maps of `f:`/`k:`/`v:`/`i:` keys; `.` marks the node itself). */
function unionFields(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const mine = out[key];
    out[key] =
      isRecord(mine) && isRecord(value)
        ? unionFields(mine, value)
        : isRecord(value)
          ? unionFields({}, value)
          : (mine ?? value);
  }
  return out;
}
