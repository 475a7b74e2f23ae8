import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  credentialsFromSecret,
  fetchRepository,
  formatPlan,
  LocalInventory,
  readCommitFiles,
  readLocalFiles,
  redact,
  secretValues,
  SyncFailure,
  Syncer,
  syncNameFor,
  type GitCredentials,
  type GitRef,
  type SourceFile,
} from '../gitops/index.js';
import { KubeClient, type KubeObject } from '../kube/index.js';
import { TrellisError } from '../lib/errors.js';
import { parse } from './args.js';
import { kubeSource } from './kube-args.js';
import { UsageError, type Command, type CommandIO } from './command.js';
import { syncStatus } from './sync-status.js';

const USAGE = `trellis sync — apply a folder or Git repository to a namespace: plan, apply, prune

Usage: trellis sync <folder-or-url> [options]     show the plan, then apply it
       trellis sync status [name] [-n <ns> | -A]   show GitSyncs and earlier \`trellis sync\` runs

Applies the YAML under a local folder or a Git repository (https://, http://, ssh://, file://) to a
namespace: creates and updates with server-side apply, and prunes what an earlier run of the same
sync applied and the source no longer has. Nothing is applied when any object is invalid.

Options:
  --dry-run                 show the plan (create / update / prune, with field diffs) and stop
  -n, --namespace <ns>      target namespace (default: the kubeconfig context's, else "default")
  -A, --all-namespaces      with \`sync status\`: syncs of every namespace
  --name <name>             names this sync; its inventory is ConfigMap trellis-sync-<name>
                            (default: from the source)
  --path <dir>              folder inside the repository or folder (default: .)
  --branch <branch>         what to fetch from a repository (default: HEAD); or one of:
  --tag <tag>
  --semver <range>
  --commit <sha>
  --secret <name>           Secret in the namespace with the Git credentials (username/password/token,
                            identity/known_hosts); or set TRELLIS_GIT_USERNAME and TRELLIS_GIT_PASSWORD
  --no-prune                keep objects that left the source
  --allow-cluster-scoped    allow cluster-scoped objects (Namespaces, CRDs, ...)
  --allow-namespace <ns>    allow objects in another namespace (repeatable)
  --kubeconfig <file>       kubeconfig to use (default: KUBECONFIG, ~/.kube/config)
  --context <name>          kubeconfig context (default: its current one)`;

const OPTIONS = {
  'dry-run': { type: 'boolean' },
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  name: { type: 'string' },
  path: { type: 'string' },
  branch: { type: 'string' },
  tag: { type: 'string' },
  semver: { type: 'string' },
  commit: { type: 'string' },
  secret: { type: 'string' },
  'no-prune': { type: 'boolean' },
  'allow-cluster-scoped': { type: 'boolean' },
  'allow-namespace': { type: 'string', multiple: true },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseSync>['values'];

const parseSync = (args: string[]) => parse(args, OPTIONS);

const isUrl = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || s.includes('::') || /^[^/:]+@[^/:]+:/.test(s);

export async function connect(
  values: { kubeconfig?: string | undefined; context?: string | undefined },
  io: CommandIO,
): Promise<KubeClient> {
  return KubeClient.connect({ ...kubeSource(values, io), fieldManager: 'trellis-gitops' });
}

/** The namespace to use: the flag, else the kubeconfig context's, else `default`. */
export function namespaceOf(kube: KubeClient, flag: string | undefined): string {
  if (flag) return flag;
  return kube.connection.namespace ?? 'default';
}

async function credentials(
  kube: KubeClient,
  values: Values,
  namespace: string,
  io: CommandIO,
): Promise<GitCredentials | undefined> {
  if (values.secret) {
    const secret = await kube.getOrNull<KubeObject & { data?: Record<string, string> }>({
      apiVersion: 'v1',
      kind: 'Secret',
      name: values.secret,
      namespace,
    });
    if (!secret)
      throw new TrellisError('TRL_GITOPS_CREDENTIALS', 'does not exist', {
        object: `Secret/${namespace}/${values.secret}`,
      });
    return credentialsFromSecret(secret);
  }
  if (io.env.TRELLIS_GIT_PASSWORD)
    return { username: io.env.TRELLIS_GIT_USERNAME ?? 'git', password: io.env.TRELLIS_GIT_PASSWORD };
  return undefined;
}

/** Reads the source: a folder as it is, or one shallow commit of a repository. */
async function readSource(
  source: string,
  values: Values,
  creds: GitCredentials | undefined,
  io: CommandIO,
): Promise<{ files: SourceFile[]; revision: string; described: string }> {
  if (!isUrl(source)) {
    const dir = path.resolve(io.cwd, source);
    return { files: await readLocalFiles(dir, values.path), revision: 'local', described: `folder ${dir}` };
  }
  const ref: GitRef = {};
  for (const key of ['branch', 'tag', 'semver', 'commit'] as const)
    if (values[key] !== undefined) ref[key] = values[key];
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'trellis-sync-'));
  try {
    const fetched = await fetchRepository({ url: source, ref, cacheDir, ...(creds ? { credentials: creds } : {}) });
    return {
      files: await readCommitFiles(fetched.repo, fetched.commit, values.path),
      revision: fetched.commit,
      described: `${source} ${fetched.ref} at ${fetched.commit.slice(0, 12)}`,
    };
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}

async function runSync(args: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseSync(args);
  if (positionals.length !== 1) throw new UsageError('give exactly one folder or repository URL');
  const source = positionals[0]!;
  const kube = await connect(values, io);
  let secrets: string[] = [];
  try {
    const namespace = namespaceOf(kube, values.namespace);
    const store = new LocalInventory(kube, values.name ?? syncNameFor(source), namespace);
    const creds = await credentials(kube, values, namespace, io);
    secrets = secretValues(creds);
    const { files, revision, described } = await readSource(source, values, creds, io);
    const syncer = new Syncer({ kube, fieldManager: 'trellis-gitops' });
    const objects = await syncer.load(files, {
      targetNamespace: namespace,
      allowedNamespaces: values['allow-namespace'] ?? [],
      allowClusterScoped: values['allow-cluster-scoped'] ?? false,
    });
    const previous = (await store.load())?.inventory ?? [];
    const prune = !values['no-prune'];
    const plan = await syncer.plan(objects, prune ? previous : [], store.owner);
    io.out.write(
      `Plan for ${described} → namespace ${namespace} (sync "${store.name}"):\n${formatPlan(plan).join('\n')}\n`,
    );
    if (values['dry-run']) return 0;
    try {
      const outcome = await syncer.sync(objects, previous, store.owner, { prune, validate: false });
      await store.save({ source, revision, appliedAt: new Date().toISOString(), inventory: outcome.inventory });
      const changed = outcome.applied.filter((a) => !['unchanged', 'kept', 'refused'].includes(a.action)).length;
      const pruned = outcome.pruned.filter((p) => p.action === 'deleted').length;
      io.out.write(
        `Applied ${objects.length - outcome.refused.length} object(s): ${changed} created or changed, ${pruned} pruned.\n`,
      );
      for (const r of outcome.refused) io.err.write(`${r.message}\n`);
      return outcome.refused.length ? 1 : 0;
    } catch (err) {
      if (!(err instanceof SyncFailure)) throw err;
      await store.save({
        source,
        revision: `${revision} (failed)`,
        appliedAt: new Date().toISOString(),
        inventory: err.inventory,
      });
      throw err.error;
    }
  } catch (err) {
    if (err instanceof Error && secrets.length) err.message = redact(err.message, secrets);
    throw err;
  } finally {
    kube.close();
  }
}

export const syncCommand: Command = {
  usage: USAGE,
  async run(args, io) {
    if (args[0] === 'status') {
      const { values, positionals } = parseSync(args.slice(1));
      const kube = await connect(values, io);
      try {
        return await syncStatus(
          kube,
          {
            name: positionals[0],
            namespace: values['all-namespaces'] ? undefined : namespaceOf(kube, values.namespace),
          },
          io,
        );
      } finally {
        kube.close();
      }
    }
    return runSync(args, io);
  },
};
