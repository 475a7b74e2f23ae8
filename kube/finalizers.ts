import type { KubeClient } from './client.js';
import { isNotFound } from './errors.js';
import type { KubeObject } from './types.js';

/**
 * Adds or removes one finalizer of `obj` (as last read), leaving every other finalizer alone: a JSON
 * patch guarded by the object's uid — and, to remove, by the entry it removes — so a concurrent
 * change fails it (422, retried) instead of being overwritten. Never server-side apply: an apply of
 * `metadata.finalizers` *creates* the object when it is already gone (a reconcile working from a
 * cache that had not seen the deletion yet brought an empty AppConfig back). An object that is gone
 * is left gone.
 *
 * @example
 *   await setFinalizer(kube, app, 'trellis.dev/scopes', false)
 */
export async function setFinalizer(
  kube: KubeClient,
  obj: KubeObject,
  finalizer: string,
  present: boolean,
): Promise<void> {
  const finalizers = obj.metadata.finalizers ?? [];
  const at = finalizers.indexOf(finalizer);
  if (at >= 0 === present) return;
  const uid = { op: 'test', path: '/metadata/uid', value: obj.metadata.uid };
  const patch = present
    ? [
        uid,
        finalizers.length
          ? { op: 'add', path: '/metadata/finalizers/-', value: finalizer }
          : { op: 'add', path: '/metadata/finalizers', value: [finalizer] },
      ]
    : [
        uid,
        { op: 'test', path: `/metadata/finalizers/${at}`, value: finalizer },
        { op: 'remove', path: `/metadata/finalizers/${at}` },
      ];
  try {
    await kube.patch(
      {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: obj.metadata.name!,
        ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
      },
      patch,
      'json',
    );
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
