/**
 * Rolling a component of an ApplicationConfiguration back: its `spec.components` entry gets
 * `revisionName` instead of `componentName`, so it stays on that revision until someone sets
 * `componentName` again. One implementation for `trellis rollback` and the dashboard's button.
 */
import type { ApplicationConfiguration } from '../apis/generated/core.oam.dev-v1alpha2.js';
import { isConflict, type KubeClient } from '../kube/index.js';
import type { KubeObject } from '../kube/types.js';
import { TrellisError } from '../lib/errors.js';
import { componentOfRevision, findRevision, listRevisions, previousRevision, revisionNumber } from './revisions.js';

/** The field manager of rollbacks (CLI and dashboard): a later `kubectl apply` of the file decides again. */
export const ROLLBACK_FIELD_MANAGER = 'trellis-rollback';

/** How often a rollback reads and writes again when the AppConfig changed in between. */
export const ROLLBACK_CONFLICT_ATTEMPTS = 5;

export interface RollbackRequest {
  namespace: string;
  /** The ApplicationConfiguration. */
  app: string;
  component: string;
  /** `web-v2`, `v2` or `2`. @default the revision before the one running */
  to?: string;
}

export interface RollbackResult {
  /** The line `trellis rollback` prints (no newline). */
  message: string;
  /** The revision the component is pinned to now. */
  revision: string;
  /** The revision it ran (or was pinned to) before, when known. */
  previous?: string;
  /** False when it already was pinned there (nothing written). */
  changed: boolean;
}

type AppConfig = ApplicationConfiguration & KubeObject;

/**
 * Pins the component to the revision with server-side apply (write `spec.components` whole, only if
 * the AppConfig did not change since read; on a conflict — the controller writes its status while it
 * reconciles — read and decide again). The client's identity decides whether it may (a 403 is
 * thrown as is). Errors: TRL_ROLLBACK_NOT_FOUND, TRL_ROLLBACK_COMPONENT, TRL_ROLLBACK_REVISION.
 *
 * @example
 *   await rollbackComponent(kube.withFieldManager(ROLLBACK_FIELD_MANAGER), { namespace: 'default', app: 'shop', component: 'web' })
 */
export async function rollbackComponent(kube: KubeClient, request: RollbackRequest): Promise<RollbackResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await pin(kube, request);
    } catch (err) {
      if (!isConflict(err) || attempt >= ROLLBACK_CONFLICT_ATTEMPTS) throw err;
    }
  }
}

async function pin(kube: KubeClient, request: RollbackRequest): Promise<RollbackResult> {
  const { namespace, app: appName, component: componentName, to } = request;
  const where = `ApplicationConfiguration/${namespace}/${appName}`;
  const app = await kube.getOrNull<AppConfig>({
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'ApplicationConfiguration',
    name: appName,
    namespace,
  });
  if (!app) throw new TrellisError('TRL_ROLLBACK_NOT_FOUND', 'no such ApplicationConfiguration', { object: where });
  const entries = app.spec?.components ?? [];
  const index = entries.findIndex(
    (c) =>
      c.componentName === componentName || (c.revisionName && componentOfRevision(c.revisionName) === componentName),
  );
  if (index < 0)
    throw new TrellisError(
      'TRL_ROLLBACK_COMPONENT',
      `no component "${componentName}" (it has: ${entries.map((c) => c.componentName ?? c.revisionName).join(', ') || 'none'})`,
      { object: where, field: 'spec.components' },
    );
  const entry = entries[index]!;
  const revisions = await listRevisions(kube, namespace, componentName);
  const component = await kube.getOrNull<KubeObject & { status?: { latestRevision?: { name?: string } } }>({
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'Component',
    name: componentName,
    namespace,
  });
  const running = app.status?.workloads?.find((w) => w.componentName === componentName)?.componentRevisionName;
  const currentName = entry.revisionName ?? running ?? component?.status?.latestRevision?.name;
  const current = currentName ? revisionNumber(currentName, componentName) : undefined;
  const kept = () => revisions.map((r) => r.metadata.name).join(', ') || 'none';
  const field = `spec.components[${index}]`;
  let target;
  if (to) {
    target = findRevision(revisions, componentName, to);
    if (!target)
      throw new TrellisError(
        'TRL_ROLLBACK_REVISION',
        `no revision "${to}" of component "${componentName}" (it has: ${kept()})`,
        { object: where, field },
      );
  } else {
    if (current === undefined)
      throw new TrellisError(
        'TRL_ROLLBACK_REVISION',
        `cannot tell the current revision of component "${componentName}" (is \`trellis controller\` running?); name one with --to`,
        { object: where, field },
      );
    target = previousRevision(revisions, current);
    if (!target)
      throw new TrellisError('TRL_ROLLBACK_REVISION', `no revision before ${currentName} is kept (it has: ${kept()})`, {
        object: where,
        field,
      });
  }
  const revision = target.metadata.name!;
  const previous = currentName ? { previous: currentName } : {};
  if (entry.revisionName === revision)
    return {
      message: `${where}: component ${componentName} is already pinned to ${revision}`,
      revision,
      ...previous,
      changed: false,
    };
  const { componentName: _follow, ...rest } = entry;
  const components = entries.map((c, i) => (i === index ? { ...rest, revisionName: revision } : c));
  // spec.components is an atomic list: apply it whole, and only if nobody changed the AppConfig since we read it.
  await kube.apply({
    apiVersion: app.apiVersion,
    kind: app.kind,
    metadata: { name: appName, namespace, resourceVersion: app.metadata.resourceVersion },
    spec: { components },
  });
  return {
    message: `${where}: component ${componentName} pinned to ${revision}${currentName ? ` (was ${currentName})` : ''}`,
    revision,
    ...previous,
    changed: true,
  };
}
