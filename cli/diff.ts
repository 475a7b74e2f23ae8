import path from 'node:path';
import { fieldProvenance, objectOrigin, originOf, renderApplication, type FieldSources } from '../application/index.js';
import { Applier, diffObjects, entryKey, entryOf, type InventoryEntry, type Owner } from '../apply/index.js';
import { FIELD_MANAGER } from '../controllers/field-managers.js';
import { CueEngine } from '../cue/index.js';
import { describeRef, isConnectionError, isNotFound, refOf, type KubeClient, type KubeObject } from '../kube/index.js';
import { TrellisError, messageOf } from '../lib/errors.js';
import { parse } from './args.js';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { CUE_ENGINE_OPTIONS, cueEngineOptions, cueEngineUsage, quietCueSay } from './cue-engine.js';
import { appConfigsOf, diffComponents, diffDefinitions } from './diff-sources.js';
import { formatDiffs, type ObjectDiff } from './diff-format.js';
import { connect, KUBE_OPTIONS, KUBE_USAGE } from './kube-args.js';
import { readManifests } from './manifests.js';

const usage = `trellis diff — show what applying files would change on the cluster, field by field, with what set each field

Usage: trellis diff -f <file or dir> [-f ...] [options]

Compares, with server-side dry runs against the live cluster:
  - the objects in the files, as \`trellis apply\` would apply them;
  - what each ApplicationConfiguration in the files renders to (with the Components and definitions of
    the files over those of the cluster), as the controller would apply it, and what it would delete.
Each changed field is printed with its old and new value and its provenance: the definition's
template, a trait's patch, a parameter of a component or trait, an AppConfig parameterValue, or
Trellis itself. Nothing is changed.

Options:
  -f, --filename <path>   file or directory (YAML/JSON, recursively) to compare (repeatable)
${KUBE_USAGE}
${cueEngineUsage(26)}

Exit status (as kubectl diff): 0 no differences, 1 differences found, 1 also on an error (said on stderr).`;

export const diffCommand: Command = {
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      ...KUBE_OPTIONS,
      filename: { type: 'string', short: 'f', multiple: true },
      ...CUE_ENGINE_OPTIONS,
    });
    const paths = [...(values.filename ?? []), ...positionals];
    if (!paths.length) throw new UsageError('name at least one file or directory with -f');
    const manifests = await readManifests(paths, io.cwd);
    const { kube, namespace } = await connect(values, io, FIELD_MANAGER);
    const engine = new CueEngine(cueEngineOptions(values['cue-engine'], io, quietCueSay(io)));
    try {
      const placed = await Promise.all(
        manifests.map(async (m) => ({
          from: path.relative(io.cwd, m.file) || m.file,
          object: await place(kube, m.object, namespace),
        })),
      );
      const objects = placed.map((p) => p.object);
      const diffs: ObjectDiff[] = [];
      let unchanged = 0;
      for (const { from, object } of placed) {
        const d = await diffGiven(kube, object, from);
        if (d) diffs.push(d);
        else unchanged++;
      }
      for (const app of appConfigsOf(objects)) {
        const result = await diffRendered(kube, engine, objects, app as KubeObject);
        diffs.push(...result.diffs);
        unchanged += result.unchanged;
      }
      io.out.write(formatDiffs(diffs, unchanged));
      return diffs.length ? 1 : 0;
    } finally {
      await engine.stop();
      kube.close();
    }
  },
};

/** The object with the namespace `trellis apply` would give it. */
async function place(kube: KubeClient, obj: KubeObject, namespace: string): Promise<KubeObject> {
  const info = await kube.resource(obj.apiVersion, obj.kind).catch((err: unknown) => {
    if (isConnectionError(err)) throw err;
    return undefined; // not served (yet): a CRD in the same files; counted as namespaced
  });
  if (info && !info.namespaced) return obj;
  return { ...obj, metadata: { ...obj.metadata, namespace: obj.metadata.namespace ?? namespace } };
}

/** What `trellis apply` would change on one object of the files (server-side dry run). */
async function diffGiven(kube: KubeClient, obj: KubeObject, from: string): Promise<ObjectDiff | undefined> {
  const before = await kube.getOrNull(refOf(obj));
  let after: KubeObject;
  try {
    after = await kube.apply(obj, { fieldManager: FIELD_MANAGER, dryRun: true });
  } catch (err) {
    if (isConnectionError(err)) throw err;
    if (!before && isNotFound(err))
      after = obj; // its kind is not served yet (a CRD in the same files)
    else throw new TrellisError('TRL_APPLY_REJECTED', messageOf(err), { object: describeRef(obj), cause: err });
  }
  const changes = diffObjects(before ?? undefined, after);
  if (before && !changes.length) return undefined;
  return {
    id: describeRef(obj),
    action: before ? 'update' : 'create',
    from,
    changes: changes.map((c) => ({ ...c, origin: `${from}` })),
  };
}

/** What the controller would apply and delete for one ApplicationConfiguration of the files. */
async function diffRendered(
  kube: KubeClient,
  engine: CueEngine,
  objects: KubeObject[],
  app: KubeObject,
): Promise<{ diffs: ObjectDiff[]; unchanged: number }> {
  const ns = app.metadata.namespace!;
  const appId = `ApplicationConfiguration/${ns}/${app.metadata.name}`;
  const input = {
    appConfig: app as never,
    namespace: ns,
    components: diffComponents(kube, objects, ns),
    definitions: diffDefinitions(kube, objects),
    engine,
  };
  const bound = await renderApplication(input);
  const sources = await fieldProvenance(input, bound);
  const live = await kube.getOrNull<KubeObject & { status?: { inventory?: InventoryEntry[] } }>(refOf(app));
  const owner: Owner = {
    apiVersion: app.apiVersion,
    kind: app.kind,
    name: app.metadata.name!,
    namespace: ns,
    ...(live?.metadata.uid ? { uid: live.metadata.uid } : {}),
  };
  // Older revisions of revisionEnabled components are kept by the controller, not pruned.
  const historyKinds = new Set(bound.components.filter((c) => c.revisionEnabled).map((c) => c.workload.object.kind));
  const previous = (live?.status?.inventory ?? []).filter((e) => !historyKinds.has(e.kind));
  const bySource = new Map<string, { from: string; sources: FieldSources }>(
    bound.objects.map((o, i) => [
      entryKey(
        entryOf({ ...o.object, metadata: { ...o.object.metadata, namespace: o.object.metadata.namespace ?? ns } }),
      ),
      { from: `${objectOrigin(o)} of ${appId}`, sources: sources[i]! },
    ]),
  );
  const plan = await new Applier({ kube, fieldManager: FIELD_MANAGER }).plan(
    bound.objects.map((o) => o.object),
    previous,
    owner,
  );
  const diffs: ObjectDiff[] = [];
  let unchanged = 0;
  for (const p of plan) {
    if (p.action === 'unchanged') {
      unchanged++;
      continue;
    }
    const id = `${p.ref.kind}/${p.ref.namespace ? `${p.ref.namespace}/` : ''}${p.ref.name}`;
    const found = bySource.get(entryKey(p.ref));
    const from = found?.from ?? `no longer rendered by ${appId}`;
    const changes = p.changes.map((c) => ({
      ...c,
      origin: found ? originOf(found.sources, c.path) : 'the API server (defaulted)',
    }));
    diffs.push({ id, action: p.action, from, changes, ...(p.refusal ? { refusal: p.refusal.message } : {}) });
  }
  return { diffs, unchanged };
}
