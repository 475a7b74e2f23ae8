export { ANNOTATION_OWNER, LABEL_APP_NAME, LABEL_COMPONENT, LABEL_MANAGED_BY, LABEL_RESOURCE_TYPE, LABEL_REVISION, MANAGED_BY } from '../apis/labels.js';

/** Identifies whoever applies a set of objects and may later prune them. */
export interface Owner {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

/** The value of {@link ANNOTATION_OWNER} for an owner. */
export function ownerId(owner: Owner): string {
  const slash = owner.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : owner.apiVersion.slice(0, slash);
  return `${owner.kind}${group ? `.${group}` : ''}/${owner.namespace ?? ''}/${owner.name}`;
}
