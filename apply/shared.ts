import { ANNOTATION_OWNER, ANNOTATION_SHARED_BY, LABEL_APP_NAME, LABEL_APP_NAMESPACE } from '../apis/labels.js';
import type { KubeObject, OwnerReference } from '../kube/types.js';
import { ownerId, type Owner } from './labels.js';

/**
 * KubeVela's `shared-resource` policy, for owners of one kind (Applications): an object another owner
 * of the same kind created is not taken over or overwritten; the next owner records itself as a sharer
 * ({@link ANNOTATION_SHARED_BY}, `<namespace>/<name>` of each, the creator first) and adds itself as a
 * non-controller owner reference, so the garbage collector deletes the object only when the last sharer
 * is gone. Objects no such owner made (by hand, another tool, another kind of owner) are never shared.
 */

/** A JSON-pointer segment (RFC 6901). */
const pointer = (segment: string) => segment.replaceAll('~', '~0').replaceAll('/', '~1');

/** `<namespace>/<name>` of an owner, as {@link ANNOTATION_SHARED_BY} lists it. */
export function sharerName(owner: Pick<Owner, 'name' | 'namespace'>): string {
  return `${owner.namespace ?? ''}/${owner.name}`;
}

/** The sharers an object lists (empty when it has no {@link ANNOTATION_SHARED_BY}). */
export function sharersOf(live: KubeObject): string[] {
  const value = live.metadata.annotations?.[ANNOTATION_SHARED_BY] ?? '';
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Whether `live`, held by someone other than `owner`, may be shared by it: it carries the mark of
 * another owner of the same kind and group, and any controller it has is of that kind too.
 */
export function shareable(live: KubeObject, owner: Owner): boolean {
  const mark = live.metadata.annotations?.[ANNOTATION_OWNER];
  const mine = ownerId(owner);
  if (!mark || mark === mine) return false;
  const kindOf = (id: string) => id.split('/')[0];
  const controller = live.metadata.ownerReferences?.find((r) => r.controller);
  return kindOf(mark) === kindOf(mine) && (!controller || controller.kind === owner.kind);
}

/**
 * The JSON merge patch that records `owner` as a sharer of `live` (conditional on its
 * resourceVersion), or `undefined` when it already is one. The creator (from its mark) is listed first.
 */
export function sharePatch(live: KubeObject, owner: Owner): Record<string, unknown> | undefined {
  const mark = live.metadata.annotations?.[ANNOTATION_OWNER] ?? '';
  const [, creatorNs = '', ...creatorName] = mark.split('/');
  const listed = sharersOf(live);
  const sharers = [
    ...new Set([...(listed.length ? listed : [`${creatorNs}/${creatorName.join('/')}`]), sharerName(owner)]),
  ];
  const refs = live.metadata.ownerReferences ?? [];
  const referable = !!owner.uid && (live.metadata.namespace ?? '') === (owner.namespace ?? '');
  const hasRef = !referable || refs.some((r) => r.uid === owner.uid);
  if (hasRef && sharers.join(',') === listed.join(',')) return undefined;
  const ref: OwnerReference = { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid! };
  return {
    metadata: {
      resourceVersion: live.metadata.resourceVersion,
      annotations: { [ANNOTATION_SHARED_BY]: sharers.join(',') },
      ...(hasRef ? {} : { ownerReferences: [...refs, ref] }),
    },
  };
}

/**
 * The JSON patch (conditional on `live`'s resourceVersion) by which `owner` lets go of a shared
 * object without deleting it, as KubeVela does when a sharer is deleted or stops rendering it: its
 * name leaves {@link ANNOTATION_SHARED_BY} and its owner reference goes; if it holds the object (its
 * mark), the mark passes to the next sharer listed, which from then on applies it. `undefined` when
 * `owner` is no sharer of `live`, or the last one (then the object is the owner's to delete).
 */
export function releasePatch(live: KubeObject, owner: Owner): object[] | undefined {
  const mine = ownerId(owner);
  const mark = live.metadata.annotations?.[ANNOTATION_OWNER];
  const listed = sharersOf(live);
  const rest = listed.filter((s) => s !== sharerName(owner));
  const refs = live.metadata.ownerReferences ?? [];
  const referenced = !!owner.uid && refs.some((r) => r.uid === owner.uid);
  const holder = mark === mine;
  // Never shared (an AppConfig's objects), the last sharer, or not a sharer: nothing to let go of.
  if (!listed.length || (holder ? !rest.length : rest.length === listed.length && !referenced)) return undefined;
  const annotation = (key: string) => `/metadata/annotations/${pointer(key)}`;
  const ops: object[] = [{ op: 'test', path: '/metadata/resourceVersion', value: live.metadata.resourceVersion }];
  ops.push(
    rest.length
      ? { op: 'replace', path: annotation(ANNOTATION_SHARED_BY), value: rest.join(',') }
      : { op: 'remove', path: annotation(ANNOTATION_SHARED_BY) },
  );
  if (referenced) {
    const kept = refs.filter((r) => r.uid !== owner.uid);
    ops.push(
      kept.length
        ? { op: 'replace', path: '/metadata/ownerReferences', value: kept }
        : { op: 'remove', path: '/metadata/ownerReferences' },
    );
  }
  if (holder) {
    const [namespace = '', ...name] = rest[0]!.split('/');
    ops.push({ op: 'replace', path: annotation(ANNOTATION_OWNER), value: `${mine.split('/')[0]}/${rest[0]}` });
    // As KubeVela does: the object is labelled with its new holder, whose watch then wakes it to apply it.
    if (live.metadata.labels?.[LABEL_APP_NAME])
      ops.push({ op: 'add', path: `/metadata/labels/${pointer(LABEL_APP_NAME)}`, value: name.join('/') });
    if (live.metadata.labels?.[LABEL_APP_NAMESPACE])
      ops.push({ op: 'add', path: `/metadata/labels/${pointer(LABEL_APP_NAMESPACE)}`, value: namespace });
  }
  return ops;
}

/**
 * `desired` as the holder of a shared object applies it: with the live {@link ANNOTATION_SHARED_BY}
 * and the other sharers' owner references, so the holder's apply never drops the sharers (they are
 * not part of what it renders, nor of its applied hash).
 */
export function keepSharers(desired: KubeObject, live: KubeObject): KubeObject {
  const sharedBy = live.metadata.annotations?.[ANNOTATION_SHARED_BY];
  if (!sharedBy) return desired;
  const refs = desired.metadata.ownerReferences ?? [];
  const sharers = (live.metadata.ownerReferences ?? []).filter(
    (r) => !r.controller && !refs.some((d) => d.uid === r.uid),
  );
  return {
    ...desired,
    metadata: {
      ...desired.metadata,
      annotations: { ...desired.metadata.annotations, [ANNOTATION_SHARED_BY]: sharedBy },
      ...(sharers.length ? { ownerReferences: [...refs, ...sharers] } : {}),
    },
  };
}
