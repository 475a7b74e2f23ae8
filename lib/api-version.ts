/**
 * The API group of an apiVersion: `apps/v1` → `apps`, `v1` → `''` (the core group).
 *
 * @example
 *   `${groupOf(o.apiVersion)}/${o.kind}`   // 'apps/Deployment', '/ConfigMap'
 */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}
