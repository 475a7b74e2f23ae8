import { ANNOTATION_OWNER, ANNOTATION_SHARED_BY } from '../apis/labels.js';
import type { KubeObject, OwnerReference } from '../kube/types.js';
import { ownerId, type Owner } from './labels.js';

/**
 * KubeVela's `shared-resource` policy, for owners of one kind (Applications): an object another owner
 * of the same kind created is not taken over or overwritten; the next owner records itself as a sharer
 * ({@link ANNOTATION_SHARED_BY}, `<namespace>/<name>` of each, the creator first) and adds itself as a
 * non-controller owner reference, so the garbage collector deletes the object only when the last sharer
 * is gone. Objects no such owner made (by hand, another tool, another kind of owner) are never shared.
 */

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
