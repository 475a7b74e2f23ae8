/**
 * `trellis revisions` and `trellis rollback` for KubeVela Applications (core.oam.dev/v1beta1, issue 16):
 * every ApplicationRevision `<app>-v<N>` holds the Application's spec as it was; a rollback writes that
 * spec back (server-side apply, the CLI's rollback field manager, forced: the revision decides every
 * field of the spec), and the Application controller renders it — traits and their properties included —
 * recording it as the next revision.
 */
import { diffObjects, formatChanges } from '../apply/index.js';
import { API_VERSION } from '../apis/generated/core.oam.dev-v1beta1.js';
import { LABEL_APP_NAME } from '../apis/labels.js';
import type { AppRevision, VelaApplication } from '../controllers/application/index.js';
import type { KubeClient } from '../kube/index.js';
import { TrellisError } from '../lib/errors.js';
import { isRecord } from '../lib/is-record.js';
import { age, table } from './args.js';

const asObject = (spec: unknown) => ({ apiVersion: '', kind: '', metadata: {}, spec });

/** The named Application, or undefined when the cluster has none (or does not serve the kind). */
export async function getApplication(
  kube: KubeClient,
  namespace: string,
  name: string,
): Promise<VelaApplication | undefined> {
  return kube
    .getOrNull<VelaApplication>({ apiVersion: API_VERSION, kind: 'Application', name, namespace })
    .catch(() => undefined);
}

/** The Application's revisions, oldest first. */
export async function listApplicationRevisions(
  kube: KubeClient,
  namespace: string,
  app: string,
): Promise<AppRevision[]> {
  const { items } = await kube.list<AppRevision>(API_VERSION, 'ApplicationRevision', {
    namespace,
    labelSelector: `${LABEL_APP_NAME}=${app}`,
  });
  return items.sort((a, b) => (a.spec?.revision ?? 0) - (b.spec?.revision ?? 0));
}

/** A revision by `shop-v2`, `v2` or `2`. */
function findAppRevision(revisions: AppRevision[], app: string, to: string): AppRevision | undefined {
  const n = /^(?:v)?(\d+)$/.exec(to)?.[1];
  const name = n ? `${app}-v${n}` : to;
  return revisions.find((r) => r.metadata.name === name);
}

const specOf = (r: AppRevision): Record<string, unknown> => {
  const spec = (r.spec?.application as { spec?: unknown } | undefined)?.spec;
  return isRecord(spec) ? spec : {};
};

/** The text `trellis revisions <application>` prints: one row per revision, then what a rollback to each would change. */
export async function applicationRevisionsReport(kube: KubeClient, app: VelaApplication): Promise<string> {
  const name = app.metadata.name!;
  const where = `Application/${app.metadata.namespace}/${name}`;
  const revisions = await listApplicationRevisions(kube, app.metadata.namespace!, name);
  if (!revisions.length) return `${where} has no revisions yet (is \`trellis controller\` running?)\n`;
  const current = { name: '(spec now)', spec: app.spec };
  const latest = (app.status as { latestRevision?: { name?: string } } | undefined)?.latestRevision?.name;
  const diffs = new Map(
    revisions.map((r) => [r, formatChanges(diffObjects(asObject(current.spec), asObject(specOf(r))))]),
  );
  const rows = [['REVISION', 'NAME', 'AGE', 'CHANGES AGAINST THE SPEC NOW']];
  for (const r of [...revisions].reverse()) {
    const lines = diffs.get(r)!;
    const changed = new Set(lines.map((l) => l.slice(2, l.indexOf(':')))).size;
    const label = changed ? `${changed} field${changed === 1 ? '' : 's'}` : 'same spec';
    rows.push([
      String(r.spec?.revision ?? ''),
      r.metadata.name!,
      age(r.metadata.creationTimestamp),
      r.metadata.name === latest ? `${label} (latest)` : label,
    ]);
  }
  let text = table(rows);
  for (const r of [...revisions].reverse()) {
    const lines = diffs.get(r)!;
    if (!lines.length) continue;
    text += `\nrollback to ${r.metadata.name} would change (- now, + ${r.metadata.name}):\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
  }
  return text;
}

/**
 * Writes the revision's recorded spec back to the Application; answers the line to print. Without
 * `to`, the revision before the latest. Rejects with a conflict (`isConflict`) when the Application
 * changed after it was read; with `TRL_ROLLBACK_REVISION` when the revision is not kept.
 */
export async function rollbackApplication(
  kube: KubeClient,
  app: VelaApplication,
  to: string | undefined,
): Promise<string> {
  const name = app.metadata.name!;
  const namespace = app.metadata.namespace!;
  const where = `Application/${namespace}/${name}`;
  const revisions = await listApplicationRevisions(kube, namespace, name);
  const kept = () => revisions.map((r) => r.metadata.name).join(', ') || 'none';
  const latest = (app.status as { latestRevision?: { name?: string } } | undefined)?.latestRevision?.name;
  let target: AppRevision | undefined;
  if (to) {
    target = findAppRevision(revisions, name, to);
    if (!target)
      throw new TrellisError('TRL_ROLLBACK_REVISION', `no revision "${to}" of the Application (it has: ${kept()})`, {
        object: where,
      });
  } else {
    const index = revisions.findIndex((r) => r.metadata.name === latest);
    target = index > 0 ? revisions[index - 1] : undefined;
    if (!target)
      throw new TrellisError(
        'TRL_ROLLBACK_REVISION',
        `no revision before ${latest ?? 'the latest'} is kept (it has: ${kept()}); name one with --to`,
        { object: where },
      );
  }
  const spec = specOf(target);
  if (!formatChanges(diffObjects(asObject(app.spec), asObject(spec))).length)
    return `${where}: the spec already is ${target.metadata.name}'s\n`;
  // Lists in the spec are atomic: applying the revision's spec, forced, makes every field it names the
  // revision's; top-level fields the revision did not have (policies or a workflow added since) are
  // removed by a second write (server-side apply cannot remove what another manager owns).
  const removed = Object.keys(app.spec ?? {}).filter((k) => !(k in spec));
  await kube.apply(
    {
      apiVersion: API_VERSION,
      kind: 'Application',
      metadata: { name, namespace, resourceVersion: app.metadata.resourceVersion },
      spec,
    },
    { force: true },
  );
  if (removed.length)
    await kube.patch(
      { apiVersion: API_VERSION, kind: 'Application', name, namespace },
      { spec: Object.fromEntries(removed.map((k) => [k, null])) },
    );
  return `${where}: spec rolled back to ${target.metadata.name}${latest ? ` (was ${latest})` : ''}; the controller records it as the next revision\n`;
}
