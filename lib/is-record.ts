/**
 * Whether `v` is a JSON object (not null, not an array): what a Kubernetes object, a CUE result or a
 * parsed YAML document is made of.
 *
 * @example
 *   if (isRecord(obj.spec)) obj.spec.replicas = 3
 */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
