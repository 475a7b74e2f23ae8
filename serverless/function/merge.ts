import { isRecord } from '../../lib/is-record.js';

/** Lists merged item by item, by this key; other lists are replaced. */
const LIST_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  volumes: 'name',
  env: 'name',
  ports: 'name',
  volumeMounts: 'mountPath',
  imagePullSecrets: 'name',
};

/**
 * Deep-merges `overlay` into `base` (neither is changed): objects key by key, the lists of
 * {@link LIST_KEYS} item by item (an overlay item with a new key is appended), anything else
 * replaced by the overlay's value. How a Function's `spec.template` reaches its pods.
 *
 * @example
 *   mergeTemplate({ containers: [{ name: 'function', env: [{ name: 'A', value: '1' }] }] },
 *                 { containers: [{ name: 'function', env: [{ name: 'B', value: '2' }] }, { name: 'proxy' }] })
 *   // → containers: [{ name: 'function', env: [A, B] }, { name: 'proxy' }]
 */
export function mergeTemplate(
  base: Record<string, unknown>,
  overlay: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    const current = out[key];
    const listKey = LIST_KEYS[key];
    if (listKey && Array.isArray(current) && Array.isArray(value)) out[key] = mergeList(current, value, listKey);
    else if (isRecord(current) && isRecord(value)) out[key] = mergeTemplate(current, value);
    else out[key] = structuredClone(value);
  }
  return out;
}

function mergeList(base: unknown[], overlay: unknown[], key: string): unknown[] {
  const out = [...base];
  for (const item of overlay) {
    const id = isRecord(item) ? item[key] : undefined;
    const at = id === undefined ? -1 : out.findIndex((b) => isRecord(b) && b[key] === id);
    if (at >= 0 && isRecord(out[at]) && isRecord(item))
      out[at] = mergeTemplate(out[at] as Record<string, unknown>, item);
    else out.push(structuredClone(item));
  }
  return out;
}
