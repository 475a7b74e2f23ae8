import { Applier, sortForApply, type AppliedObject } from '../apply/index.js';
import { FIELD_MANAGER } from '../controllers/field-managers.js';
import type { ApplicationConfiguration } from '../controllers/types.js';
import { describeRef, isConflict, isConnectionError, type KubeClient, type KubeObject } from '../kube/index.js';
import { TrellisError, messageOf } from '../lib/errors.js';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { parse, readStdin } from './args.js';
import { connect, KUBE_OPTIONS, KUBE_USAGE } from './kube-args.js';
import { readManifests } from './manifests.js';

const usage = `trellis apply — server-side apply manifests, then follow ApplicationConfigurations until Synced and Ready

Usage: trellis apply -f <file, dir or -> [-f ...] [options]

Options:
  -f, --filename <path>   file or directory (YAML/JSON, recursively) to apply, - for standard input
                          (repeatable)
  --timeout <seconds>     how long to wait for Synced and Ready (default 300; 0 = do not wait)
  --force-conflicts       take over fields another field manager owns
                          (as kubectl apply --server-side --force-conflicts)
${KUBE_USAGE}

Objects are applied with server-side apply as field manager "trellis", definitions and CRDs first.
An object an owner holds (an ApplicationConfiguration's workload, a GitSync's object) is not changed:
it is named with its owner, the rest is applied, and the exit code is 1.
Exits 1 when an ApplicationConfiguration cannot be rendered or is not Ready in time, naming why.`;

interface Progress {
  line: string;
  done: boolean;
  failed?: string;
}

/** Where an AppConfig stands at its current generation: a one-line summary, done (Synced + Ready), or failed for good (render error). */
function progressOf(app: ApplicationConfiguration): Progress {
  const id = `ApplicationConfiguration/${app.metadata.namespace}/${app.metadata.name}`;
  const s = app.status;
  if (!s || s.observedGeneration !== app.metadata.generation)
    return { line: `${id}: waiting for the controller`, done: false };
  const cond = (t: string) => s.conditions?.find((c) => c.type === t);
  const synced = cond('Synced');
  const ready = cond('Ready');
  const line = `${id}: Synced=${synced?.status ?? 'Unknown'} Ready=${ready?.status ?? 'Unknown'}${ready?.status !== 'True' && (synced?.status === 'False' ? synced.message : ready?.message) ? ` (${synced?.status === 'False' ? `${s.syncReason ?? synced.reason}: ${synced.message}` : `${ready?.reason}: ${ready?.message}`})` : ''}`;
  if (synced?.status === 'False' && s.syncReason === 'RenderFailed')
    return { line, done: false, failed: synced.message ?? 'render failed' };
  return { line, done: synced?.status === 'True' && ready?.status === 'True' };
}

/**
 * Polls the given ApplicationConfigurations until each is Synced and Ready at its current generation,
 * writing a line whenever one's state changes. Rejects with TRL_APPLY_WAIT when one cannot be rendered,
 * is deleted, or is not there within `timeoutSeconds`. Shared by `trellis apply` and `trellis up`.
 */
export async function followApplications(
  kube: KubeClient,
  apps: KubeObject[],
  timeoutSeconds: number,
  write: (line: string) => void,
): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const last = new Map<string, string>();
  let pending = apps;
  for (;;) {
    const still: KubeObject[] = [];
    for (const a of pending) {
      const app = await kube.getOrNull<ApplicationConfiguration>({
        apiVersion: a.apiVersion,
        kind: a.kind,
        name: a.metadata.name!,
        namespace: a.metadata.namespace!,
      });
      if (!app) throw new TrellisError('TRL_APPLY_WAIT', 'deleted while waiting for it', { object: describeRef(a) });
      const p = progressOf(app);
      if (last.get(describeRef(a)) !== p.line) write(p.line);
      last.set(describeRef(a), p.line);
      if (p.failed) throw new TrellisError('TRL_APPLY_WAIT', p.failed, { object: describeRef(a) });
      if (!p.done) still.push(a);
    }
    pending = still;
    if (!pending.length) return;
    if (Date.now() > deadline) {
      throw new TrellisError(
        'TRL_APPLY_WAIT',
        `not Synced and Ready within ${timeoutSeconds} s: ${pending.map((a) => last.get(describeRef(a))).join('; ')}`,
        { object: pending.map(describeRef).join(', ') },
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

export const applyCommand: Command = {
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      ...KUBE_OPTIONS,
      filename: { type: 'string', short: 'f', multiple: true },
      timeout: { type: 'string' },
      'force-conflicts': { type: 'boolean' },
    });
    const paths = [...(values.filename ?? []), ...positionals];
    if (!paths.length) throw new UsageError('name at least one file or directory with -f');
    const timeout = values.timeout === undefined ? 300 : Number(values.timeout);
    if (!Number.isFinite(timeout) || timeout < 0)
      throw new UsageError(`--timeout must be a number of seconds, got "${values.timeout}"`);
    const manifests = await readManifests(paths, io.cwd, paths.includes('-') ? await readStdin(io) : undefined);
    const { kube, namespace } = await connect(values, io, FIELD_MANAGER);
    try {
      const apps: KubeObject[] = [];
      const refused: string[] = [];
      const applier = new Applier({ kube, fieldManager: FIELD_MANAGER });
      for (const obj of sortForApply(manifests.map((m) => m.object))) {
        const info = await kube.resource(obj.apiVersion, obj.kind).catch((err: unknown) => {
          if (isConnectionError(err)) throw err;
          throw new TrellisError('TRL_APPLY_REJECTED', messageOf(err), { object: describeRef(obj) });
        });
        const placed = info.namespaced
          ? { ...obj, metadata: { ...obj.metadata, namespace: obj.metadata.namespace ?? namespace } }
          : obj;
        let result: AppliedObject;
        try {
          [result] = (await applier.applyForPerson([placed], { force: values['force-conflicts'] ?? false })) as [
            AppliedObject,
          ];
        } catch (err) {
          const cause = (err as Error).cause ?? err;
          if (isConnectionError(cause)) throw cause;
          const hint = isConflict(cause)
            ? ' (another field manager owns these fields: rerun with --force-conflicts to take them over)'
            : '';
          throw new TrellisError('TRL_APPLY_REJECTED', `${messageOf(cause)}${hint}`, { object: describeRef(placed) });
        }
        if (result.refusal) {
          // Someone else's (an AppConfig's workload, a GitSync's object): changing it here would be undone.
          refused.push(result.refusal.message);
          io.err.write(`${result.refusal.message}\n`);
          continue;
        }
        if (obj.kind === 'CustomResourceDefinition') kube.mapper.invalidate();
        io.out.write(`${describeRef(placed)} applied\n`);
        if (obj.kind === 'ApplicationConfiguration' && obj.apiVersion.startsWith('core.oam.dev/')) apps.push(placed);
      }
      if (timeout > 0 && apps.length)
        await followApplications(kube, apps, timeout, (line) => io.out.write(`${line}\n`));
      return refused.length ? 1 : 0;
    } finally {
      kube.close();
    }
  },
};
