/**
 * `trellis reconcile|suspend|resume` (Flux's): annotations on an ApplicationConfiguration, a KubeVela
 * Application or a GitSync, written by server-side apply with their own field manager, which the
 * controllers honour (status/suspend.ts). `reconcile` and `resume` wait until the status records the
 * request as handled.
 */
import { ANNOTATION_RECONCILE_REQUESTED, ANNOTATION_SUSPEND, isSuspended } from '../apis/labels.js';
import type { Condition, KubeClient, KubeObject } from '../kube/index.js';
import { parseDuration } from '../lib/duration.js';
import { TrellisError } from '../lib/errors.js';
import { didYouMean } from '../lib/suggest.js';
import { parse } from './args.js';
import type { Command, CommandIO } from './command.js';
import { UsageError } from './command.js';
import { connect, KUBE_OPTIONS, KUBE_USAGE } from './kube-args.js';

/** The field manager of the annotations these commands write (so no one else's fields are touched). */
export const RECONCILE_FIELD_MANAGER = 'trellis-reconcile';

const KINDS = {
  appconfig: { apiVersion: 'core.oam.dev/v1alpha2', kind: 'ApplicationConfiguration' },
  application: { apiVersion: 'core.oam.dev/v1beta1', kind: 'Application' },
  gitsync: { apiVersion: 'gitops.trellis.dev/v1alpha1', kind: 'GitSync' },
} as const;
type KindName = keyof typeof KINDS;

/** What `--kind` and a `<kind>/` prefix accept, kubectl's singular and short names included. */
const KIND_ALIASES: Record<string, KindName> = {
  appconfig: 'appconfig',
  applicationconfiguration: 'appconfig',
  application: 'application',
  app: 'application',
  gitsync: 'gitsync',
  gs: 'gitsync',
};

type Verb = 'reconcile' | 'suspend' | 'resume';

const OPTIONS = {
  ...KUBE_OPTIONS,
  kind: { type: 'string' },
  timeout: { type: 'string' },
  'no-wait': { type: 'boolean' },
} as const;

const TARGET_USAGE = `<name> is an ApplicationConfiguration, else a KubeVela Application of that name; \`gitsync/<name>\`,
\`application/<name>\` or \`appconfig/<name>\` (or --kind) says which.`;

const kindUsage = `  --kind <kind>         appconfig, application (KubeVela) or gitsync (default: appconfig, else application)`;
const waitUsage = `  --timeout <duration>  how long to wait for the controller (default 2m)
  --no-wait             write the annotation and return`;

const USAGES: Record<Verb, string> = {
  reconcile: `trellis reconcile — reconcile an application or GitSync now and wait until the controller has

Usage: trellis reconcile <name> [options]

Like \`flux reconcile\`: sets ${ANNOTATION_RECONCILE_REQUESTED} to the current time (server-side apply,
field manager ${RECONCILE_FIELD_MANAGER}); the controller renders and applies again even when nothing it reads
changed (drift corrected), or a GitSync fetches and applies again, and records the value in
status.lastHandledReconcileAt. Waits for that, printing the object's state, then its conditions.
${TARGET_USAGE}
A suspended object is refused: \`trellis resume\` it.

Options:
${kindUsage}
${waitUsage}
${KUBE_USAGE}`,
  suspend: `trellis suspend — stop reconciling an application or GitSync: nothing is applied, pruned or corrected

Usage: trellis suspend <name> [options]

Like \`flux suspend\`: sets ${ANNOTATION_SUSPEND}: "true" (server-side apply, field manager
${RECONCILE_FIELD_MANAGER}). What runs stays as it is — edits and deletions of its objects are not undone —
and status gets the condition Suspended=True (with an Event), until \`trellis resume\`. Deleting it still
deletes. ${TARGET_USAGE}

Options:
${kindUsage}
${KUBE_USAGE}`,
  resume: `trellis resume — reconcile a suspended application or GitSync again, now, and wait until it has

Usage: trellis resume <name> [options]

Like \`flux resume\`: removes ${ANNOTATION_SUSPEND} and asks for a reconcile (${ANNOTATION_RECONCILE_REQUESTED});
the controller applies again (restoring what was edited or deleted meanwhile), drops the Suspended
condition and records status.lastHandledReconcileAt, which this command waits for.
${TARGET_USAGE}

Options:
${kindUsage}
${waitUsage}
${KUBE_USAGE}`,
};

type Target = KubeObject & {
  status?: { lastHandledReconcileAt?: string; conditions?: Condition[]; syncReason?: string; status?: string };
};

/** What `<name>` (with `--kind`) names: a kind (undefined: AppConfig, else Application) and a name. */
export function parseTarget(arg: string, kindOption: string | undefined): { kind?: KindName; name: string } {
  const slash = arg.indexOf('/');
  const prefix = slash > 0 ? arg.slice(0, slash).toLowerCase().replace(/s$/, '') : undefined;
  const name = slash > 0 ? arg.slice(slash + 1) : arg;
  const asked = prefix ?? kindOption?.toLowerCase().replace(/s$/, '');
  if (!name) throw new UsageError(`name the object after "${arg}"`);
  if (asked === undefined) return { name };
  const kind = KIND_ALIASES[asked];
  if (!kind)
    throw new UsageError(
      `unknown kind "${asked}"${didYouMean(asked, Object.keys(KIND_ALIASES))}: appconfig, application or gitsync`,
    );
  if (prefix && kindOption && KIND_ALIASES[kindOption.toLowerCase().replace(/s$/, '')] !== kind)
    throw new UsageError(`"${arg}" and --kind ${kindOption} name different kinds`);
  return { kind, name };
}

/** Reads the target; without a kind, an AppConfig of that name, else an Application. TRL_STATUS_NOT_FOUND if none. */
async function readTarget(kube: KubeClient, namespace: string, target: { kind?: KindName; name: string }) {
  const kinds: KindName[] = target.kind ? [target.kind] : ['appconfig', 'application'];
  for (const k of kinds) {
    const obj = await kube.getOrNull<Target>({ ...KINDS[k], name: target.name, namespace }).catch((err: unknown) => {
      // An Application looked for by default on a cluster without KubeVela's CRD: not there.
      if (!target.kind && k === 'application' && (err as Error).name === 'UnknownKindError') return undefined;
      throw err;
    });
    if (obj) return obj;
  }
  const what = kinds.map((k) => KINDS[k].kind).join(' or ');
  throw new TrellisError('TRL_STATUS_NOT_FOUND', `no such ${what}`, {
    object: `${KINDS[kinds[0]!].kind}/${namespace}/${target.name}`,
  });
}

const describe = (o: KubeObject) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;

/**
 * Server-side applies exactly `annotations` under {@link RECONCILE_FIELD_MANAGER}: the keys it set
 * before and leaves out now are removed, nobody else's are touched.
 */
async function applyAnnotations(kube: KubeClient, obj: KubeObject, annotations: Record<string, string>) {
  await kube.apply(
    {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace, annotations },
    },
    { fieldManager: RECONCILE_FIELD_MANAGER },
  );
}

/** Our own reconcile request kept across a suspend (dropping it would look like a new state to the controller). */
function keptRequest(obj: KubeObject): Record<string, string> {
  const value = obj.metadata.annotations?.[ANNOTATION_RECONCILE_REQUESTED];
  return value ? { [ANNOTATION_RECONCILE_REQUESTED]: value } : {};
}

/** One line on where the object stands: its conditions (and phase). */
function stateLine(o: Target): string {
  const conditions = (o.status?.conditions ?? []).map(
    (c) =>
      `${c.type}=${c.status}${c.status !== 'True' && c.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ''})` : ''}`,
  );
  const phase = o.status?.status ? [`phase ${o.status.status}`] : [];
  return [...phase, ...conditions].join(' ') || 'no status yet';
}

/** Polls until `status.lastHandledReconcileAt` is `requested`, printing progress; TRL_RECONCILE_TIMEOUT after `timeoutMs`. */
async function waitHandled(kube: KubeClient, obj: KubeObject, requested: string, timeoutMs: number, io: CommandIO) {
  const deadline = Date.now() + timeoutMs;
  io.err.write(`◎ waiting for ${describe(obj)} to be reconciled\n`);
  for (;;) {
    const now = await kube.getOrNull<Target>({
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      name: obj.metadata.name!,
      namespace: obj.metadata.namespace!,
    });
    if (!now) throw new TrellisError('TRL_STATUS_NOT_FOUND', 'deleted while waiting for it', { object: describe(obj) });
    if (now.status?.lastHandledReconcileAt === requested) {
      io.out.write(`✔ ${describe(obj)} reconciled: ${stateLine(now)}\n`);
      return;
    }
    if (Date.now() > deadline)
      throw new TrellisError(
        'TRL_RECONCILE_TIMEOUT',
        `the controller did not handle the reconcile request within ${Math.round(timeoutMs / 1000)} s ` +
          `(${stateLine(now)}): is the Trellis controller running? ` +
          '(`kubectl get pods -A -l app.kubernetes.io/name=trellis`, `trellis check`)',
        { object: describe(obj) },
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}

function command(verb: Verb): Command {
  return {
    usage: USAGES[verb],
    async run(args, io) {
      const { values, positionals } = parse(args, OPTIONS);
      if (positionals.length !== 1) throw new UsageError('name one ApplicationConfiguration, Application or GitSync');
      const target = parseTarget(positionals[0]!, values.kind);
      if (verb === 'suspend' && (values.timeout || values['no-wait']))
        throw new UsageError('suspend does not wait: --timeout and --no-wait are for reconcile and resume');
      const timeoutMs = parseDuration(values.timeout, -1);
      if (values.timeout && timeoutMs < 0)
        throw new UsageError(`--timeout ${values.timeout} is not a duration (e.g. 30s, 2m, 1m30s)`);
      const { kube, namespace } = await connect(values, io, RECONCILE_FIELD_MANAGER);
      try {
        const obj = await readTarget(kube, namespace, target);
        if (verb === 'suspend') {
          await applyAnnotations(kube, obj, { ...keptRequest(obj), [ANNOTATION_SUSPEND]: 'true' });
          io.out.write(`${describe(obj)} suspended: nothing is applied or pruned until \`trellis resume\`\n`);
          return 0;
        }
        if ((obj.spec as { suspend?: boolean } | undefined)?.suspend)
          throw new TrellisError(
            'TRL_RECONCILE_SUSPENDED',
            'is suspended by its spec.suspend: set it to false (in Git, or `kubectl edit`) to resume',
            { object: describe(obj), field: 'spec.suspend' },
          );
        if (verb === 'reconcile' && isSuspended(obj))
          throw new TrellisError(
            'TRL_RECONCILE_SUSPENDED',
            `is suspended (${ANNOTATION_SUSPEND}: "true"): \`trellis resume ${positionals[0]}\` reconciles it again`,
            { object: describe(obj) },
          );
        if (verb === 'resume' && !isSuspended(obj))
          io.err.write(`${describe(obj)} was not suspended; reconciling it\n`);
        const requested = new Date().toISOString();
        // Resuming drops the suspend annotation this manager wrote; one written by someone else is removed by name.
        await applyAnnotations(kube, obj, { [ANNOTATION_RECONCILE_REQUESTED]: requested });
        if (verb === 'resume') await removeForeignSuspend(kube, obj);
        io.err.write(`${describe(obj)}: ${verb === 'resume' ? 'resumed, ' : ''}reconcile requested at ${requested}\n`);
        if (!values['no-wait']) await waitHandled(kube, obj, requested, timeoutMs < 0 ? 120_000 : timeoutMs, io);
        return 0;
      } finally {
        kube.close();
      }
    },
  };
}

/** Removes a suspend annotation someone else set (`kubectl annotate`), which our apply cannot take away. */
async function removeForeignSuspend(kube: KubeClient, obj: KubeObject): Promise<void> {
  const ref = {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name: obj.metadata.name!,
    namespace: obj.metadata.namespace!,
  };
  const now = await kube.getOrNull(ref);
  if (now && ANNOTATION_SUSPEND in (now.metadata.annotations ?? {}))
    await kube.patch(ref, { metadata: { annotations: { [ANNOTATION_SUSPEND]: null } } });
}

export const reconcileCommand = command('reconcile');
export const suspendCommand = command('suspend');
export const resumeCommand = command('resume');
