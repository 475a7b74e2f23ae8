import { splitApiVersion, type KubeObject, type ObjectRef } from '../kube/types.js';

/** One object an owner applied. The version is kept for reading it back, but not part of its identity. */
export type InventoryEntry = ObjectRef;

export function entryOf(obj: KubeObject): InventoryEntry {
  const entry: InventoryEntry = { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name ?? '' };
  if (obj.metadata.namespace) entry.namespace = obj.metadata.namespace;
  return entry;
}

/** Identity of an entry: group, kind, namespace, name (a new apiVersion of the same object is the same object). */
export function entryKey(entry: InventoryEntry): string {
  return `${splitApiVersion(entry.apiVersion).group}/${entry.kind}/${entry.namespace ?? ''}/${entry.name}`;
}

/** Entries of `previous` that `current` no longer has: what prune removes. */
export function removedEntries(previous: InventoryEntry[], current: InventoryEntry[]): InventoryEntry[] {
  const keep = new Set(current.map(entryKey));
  return previous.filter((e) => !keep.has(entryKey(e)));
}

/** The union of inventories, first occurrence wins, identity by {@link entryKey} (group, kind, namespace, name). */
export function unionEntries(...lists: InventoryEntry[][]): InventoryEntry[] {
  const seen = new Map<string, InventoryEntry>();
  for (const list of lists) for (const e of list) if (!seen.has(entryKey(e))) seen.set(entryKey(e), e);
  return [...seen.values()];
}
