import { groupOf } from '../lib/api-version.js';

export {
  ANNOTATION_ADOPT,
  ANNOTATION_ADOPTED,
  ANNOTATION_APPLY_ONCE,
  ANNOTATION_OWNER,
  ANNOTATION_SHARED_BY,
  LABEL_APP_NAME,
  LABEL_COMPONENT,
  LABEL_MANAGED_BY,
  LABEL_RESOURCE_TYPE,
  LABEL_REVISION,
  MANAGED_BY,
} from '../apis/labels.js';

/** Identifies whoever applies a set of objects and may later prune them. */
export interface Owner {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  /**
   * The owner object's uid. With it, what the owner applies in its own namespace gets it as
   * controller owner reference (deleted with it by the garbage collector), and an object controlled
   * by another uid — an earlier owner of the same name — is not this owner's. @default none (GitSync)
   */
  uid?: string;
}

/** The value of {@link ANNOTATION_OWNER} for an owner. */
export function ownerId(owner: Pick<Owner, 'apiVersion' | 'kind' | 'name' | 'namespace'>): string {
  const group = groupOf(owner.apiVersion);
  return `${owner.kind}${group ? `.${group}` : ''}/${owner.namespace ?? ''}/${owner.name}`;
}

/** `ApplicationConfiguration/shop/web` (cluster-scoped owners: `Kind/name`), for messages. */
export function describeOwnerId(id: string): string {
  const [kindGroup = '', namespace = '', ...name] = id.split('/');
  const kind = kindGroup.split('.')[0];
  return namespace ? `${kind}/${namespace}/${name.join('/')}` : `${kind}/${name.join('/')}`;
}
