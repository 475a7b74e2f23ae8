import type { InventoryEntry, Owner } from '../apply/index.js';
import type { KubeClient } from '../kube/client.js';
import type { KubeObject } from '../kube/types.js';
import { TrellisError } from '../lib/errors.js';

/** Label on the ConfigMaps that hold what a `trellis sync` run applied. */
export const LABEL_SYNC_INVENTORY = 'gitops.trellis.dev/sync-inventory';

/** What `trellis sync` remembers between runs, in a ConfigMap `trellis-sync-<name>`. */
export interface LocalSyncRecord {
  name: string;
  namespace: string;
  source: string;
  /** Commit SHA, or `local` for a folder. */
  revision: string;
  appliedAt: string;
  inventory: InventoryEntry[];
}

/** A DNS label from anything: `./deploy/prod/` → `prod`, `https://h/org/apps.git` → `apps`. */
export function syncNameFor(source: string): string {
  const last =
    source
      .replace(/[/\\]+$/, '')
      .split(/[/\\:]/)
      .pop()
      ?.replace(/\.git$/, '') ?? '';
  const label = last
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return label || 'default';
}

/**
 * The inventory of a `trellis sync` run lives in a ConfigMap, which is also the owner whose mark
 * the applied objects carry: prune on the next run deletes only what that ConfigMap's earlier
 * runs applied.
 */
export class LocalInventory {
  readonly owner: Owner;
  readonly configMapName: string;

  constructor(
    private readonly kube: KubeClient,
    readonly name: string,
    readonly namespace: string,
  ) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 50)
      throw new TrellisError(
        'TRL_GITOPS_NAME',
        `"${name}" is not a valid sync name (lower-case letters, digits and '-', at most 50)`,
        { field: '--name' },
      );
    this.configMapName = `trellis-sync-${name}`;
    this.owner = { apiVersion: 'v1', kind: 'ConfigMap', name: this.configMapName, namespace };
  }

  async load(): Promise<LocalSyncRecord | undefined> {
    const cm = await this.kube.getOrNull<KubeObject & { data?: Record<string, string> }>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: this.configMapName,
      namespace: this.namespace,
    });
    return cm?.data?.record ? (JSON.parse(cm.data.record) as LocalSyncRecord) : undefined;
  }

  async save(record: Omit<LocalSyncRecord, 'name' | 'namespace'>): Promise<void> {
    const full: LocalSyncRecord = { name: this.name, namespace: this.namespace, ...record };
    await this.kube.apply(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: this.configMapName, namespace: this.namespace, labels: { [LABEL_SYNC_INVENTORY]: 'true' } },
        data: { record: JSON.stringify(full) },
      },
      { fieldManager: 'trellis-sync' },
    );
  }

  /** Every `trellis sync` record in a namespace (or all). */
  static async list(kube: KubeClient, namespace?: string): Promise<LocalSyncRecord[]> {
    const { items } = await kube.list<KubeObject & { data?: Record<string, string> }>('v1', 'ConfigMap', {
      labelSelector: `${LABEL_SYNC_INVENTORY}=true`,
      ...(namespace ? { namespace } : {}),
    });
    return items.flatMap((cm) => (cm.data?.record ? [JSON.parse(cm.data.record) as LocalSyncRecord] : []));
  }
}
