import { LABEL_APP_NAME } from '../apis/labels.js';
import {
  ANNOTATION_ABORT,
  ANNOTATION_PAUSED,
  ANNOTATION_PROMOTE,
  ANNOTATION_RETRY,
  attemptToken,
  commandsOf,
  describeStep,
  HTTP_ROUTE,
  plannedSteps,
  promoteToken,
  ROLLOUT_API_VERSION,
  ROLLOUT_CLI_FIELD_MANAGER,
  routeName,
  routeWeights,
  type Rollout,
} from '../controllers/rollout/index.js';
import type { KubeClient, KubeObject } from '../kube/index.js';
import { formatDuration } from '../lib/duration.js';
import { TrellisError } from '../lib/errors.js';
import { age, parse, table } from './args.js';
import { UsageError, type Command, type CommandIO } from './command.js';
import { connect, KUBE_OPTIONS, KUBE_USAGE } from './kube-args.js';

const usage = `trellis rollout — follow and steer the rollout of a component's new revision

Usage: trellis rollout status|promote|abort|pause|resume <appconfig> [--component <name>] [options]

  status   the step, the weights each revision gets, the analysis results and what happens next
  promote  complete the current step now (with --full: give the new revision all traffic now)
  abort    send all traffic back to the stable revision; the new revision is not tried again
  pause    hold the rollout where it is (analysis goes on; a failing one still rolls back)
  resume   continue a paused rollout, or try an aborted / rolled back revision again

The rollout trait of a component renders a Rollout; these commands annotate it and the controller
acts on the next reconcile (\`kubectl get rollout\` or \`trellis rollout status\` shows it).

Options:
  --component <name>    the component (needed when the ApplicationConfiguration has several rollouts)
  --full                promote: skip all remaining steps
${KUBE_USAGE}`;

const ACTIONS = ['status', 'promote', 'abort', 'pause', 'resume'] as const;
type Action = (typeof ACTIONS)[number];

export const rolloutCommand: Command = {
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      ...KUBE_OPTIONS,
      component: { type: 'string' },
      full: { type: 'boolean' },
    });
    const [action, app, ...extra] = positionals;
    if (!action || !(ACTIONS as readonly string[]).includes(action))
      throw new UsageError(`say what to do: ${ACTIONS.join(', ')}${action ? ` (not "${action}")` : ''}`);
    if (!app || extra.length) throw new UsageError('name one ApplicationConfiguration');
    if (values.full && action !== 'promote') throw new UsageError('--full goes with promote only');
    const { kube, namespace } = await connect(values, io, ROLLOUT_CLI_FIELD_MANAGER);
    try {
      const rollouts = await findRollouts(kube, namespace, app, values.component);
      if (action === 'status') {
        for (const [i, r] of rollouts.entries()) {
          if (i) io.out.write('\n');
          await printRollout(io, kube, r);
        }
        return 0;
      }
      if (rollouts.length > 1)
        throw new UsageError(
          `${app} has rollouts for several components (${rollouts.map((r) => r.spec?.component).join(', ')}): name one with --component`,
        );
      io.out.write(await steer(kube, rollouts[0]!, action as Exclude<Action, 'status'>, !!values.full));
      return 0;
    } finally {
      kube.close();
    }
  },
};

async function findRollouts(
  kube: KubeClient,
  namespace: string,
  app: string,
  component: string | undefined,
): Promise<Rollout[]> {
  const { items } = await kube.list<Rollout>(ROLLOUT_API_VERSION, 'Rollout', {
    namespace,
    labelSelector: `${LABEL_APP_NAME}=${app}`,
  });
  const found = items
    .filter((r) => !component || r.spec?.component === component)
    .sort((a, b) => (a.spec?.component ?? '').localeCompare(b.spec?.component ?? ''));
  if (found.length) return found;
  const where = `ApplicationConfiguration/${namespace}/${app}`;
  if (component && items.length)
    throw new TrellisError(
      'TRL_ROLLOUT_NOT_FOUND',
      `component "${component}" has no rollout trait (these do: ${items.map((r) => r.spec?.component).join(', ')})`,
      { object: where },
    );
  throw new TrellisError(
    'TRL_ROLLOUT_NOT_FOUND',
    `no Rollout belongs to it: attach the \`rollout\` trait to a component (and is \`trellis controller\` running?)`,
    { object: where },
  );
}

/** Writes the command as an annotation (a merge patch: other annotations stay) and says what it asked for. */
async function steer(
  kube: KubeClient,
  rollout: Rollout,
  action: Exclude<Action, 'status'>,
  full: boolean,
): Promise<string> {
  const s = rollout.status ?? {};
  const where = `Rollout ${rollout.metadata.namespace}/${rollout.metadata.name}`;
  const canary = s.canaryRevision;
  const aborted = !!canary && s.abortedRevision === canary;
  const nothing = () =>
    new TrellisError(
      'TRL_ROLLOUT_STATE',
      `nothing is rolling out: ${s.message ?? `${s.stableRevision ?? 'the stable revision'} takes all traffic`}`,
      { object: where },
    );
  const annotate = (annotations: Record<string, string | null>) =>
    kube.patch(
      {
        apiVersion: ROLLOUT_API_VERSION,
        kind: 'Rollout',
        name: rollout.metadata.name!,
        namespace: rollout.metadata.namespace!,
      },
      { metadata: { annotations } },
      'merge',
    );
  const steps = plannedSteps(rollout.spec!);
  const index = s.currentStep ?? 0;
  const step = steps[index];
  switch (action) {
    case 'promote': {
      if (!canary) throw nothing();
      if (aborted && !full)
        throw new TrellisError(
          'TRL_ROLLOUT_STATE',
          `${canary} was ${s.phase === 'Aborted' ? 'aborted' : 'rolled back'}: \`resume\` tries it again from the first step, \`promote --full\` gives it all traffic now`,
          { object: where },
        );
      await annotate({ [ANNOTATION_PROMOTE]: promoteToken(s, full)! });
      if (full) return `${where}: ${canary} takes all traffic next (promoted in full)\n`;
      const next = steps[index + 1];
      return `${where}: step ${index + 1}/${steps.length} (${step ? describeStep(step, canary) : canary}) promoted; next: ${next ? describeStep(next, canary) : `${canary} takes all traffic`}\n`;
    }
    case 'abort':
      if (!canary) throw nothing();
      if (aborted)
        return `${where}: ${canary} is already ${s.phase === 'Aborted' ? 'aborted' : 'rolled back'}; ${s.stableRevision} takes all traffic\n`;
      await annotate({ [ANNOTATION_ABORT]: attemptToken(s)! });
      return `${where}: abort of ${canary} requested; ${s.stableRevision} takes all traffic back\n`;
    case 'pause':
      if (commandsOf(rollout).paused) return `${where}: already paused\n`;
      await annotate({ [ANNOTATION_PAUSED]: 'true' });
      return `${where}: paused${canary ? ` at step ${index + 1}/${steps.length}` : ' (the next rollout will wait at its first step)'}\n`;
    case 'resume':
      if (aborted) {
        await annotate({ [ANNOTATION_PAUSED]: null, [ANNOTATION_RETRY]: attemptToken(s)! });
        return `${where}: trying ${canary} again from the first step\n`;
      }
      if (!commandsOf(rollout).paused) {
        if (!canary) throw nothing();
        return `${where}: not paused by \`trellis rollout pause\`; ${s.phase === 'Paused' ? `a step waiting to be promoted goes on with \`trellis rollout promote\`` : 'it is running'}\n`;
      }
      await annotate({ [ANNOTATION_PAUSED]: null });
      return `${where}: resumed\n`;
  }
}

/** What `trellis rollout status` prints for one Rollout. */
async function printRollout(io: CommandIO, kube: KubeClient, rollout: Rollout): Promise<void> {
  const spec = rollout.spec!;
  const s = rollout.status ?? {};
  const paused = commandsOf(rollout).paused;
  io.out.write(
    `Rollout ${rollout.metadata.namespace}/${rollout.metadata.name}  (component ${spec.component}, ${spec.strategy ?? 'canary'})\n`,
  );
  const ready = s.conditions?.find((c) => c.type === 'Ready');
  const lines: [string, string][] = [
    [
      'Phase',
      `${s.phase ?? 'not reconciled yet'}${paused ? ' (paused by `trellis rollout pause`)' : ''}${ready?.status === 'False' && ready.reason !== s.phase ? ` — ${ready.reason}: ${ready.message}` : ''}`,
    ],
    ['Stable', s.stableRevision ?? '-'],
    ...(s.canaryRevision
      ? [
          [
            'New',
            `${s.canaryRevision}${s.abortedRevision === s.canaryRevision ? ` (${s.phase === 'Aborted' ? 'aborted' : 'rolled back'})` : `, attempt ${s.attempt ?? 1}`}`,
          ] as [string, string],
        ]
      : []),
    ...(s.step ? [['Step', s.step] as [string, string]] : []),
    ['Weights', (s.weights ?? []).map((w) => `${w.revision} ${w.weight}%`).join(', ') || '-'],
    ['Route', await routeLine(kube, rollout)],
    ['Message', s.message ?? '-'],
    ['Next', s.nextAction ?? '-'],
  ];
  const width = Math.max(...lines.map(([k]) => k.length)) + 1;
  io.out.write(lines.map(([k, v]) => `  ${`${k}:`.padEnd(width)}  ${v}`).join('\n') + '\n');
  const steps = plannedSteps(spec);
  if (s.canaryRevision) {
    io.out.write('\n');
    const current = s.abortedRevision === s.canaryRevision ? -1 : (s.currentStep ?? 0);
    io.out.write(
      table([
        ['STEP', 'TRAFFIC', 'WAIT', ''],
        ...steps.map((st, i) => [
          String(i + 1),
          st.preview ? 'preview' : `${st.weight}%`,
          waitOf(st.pause, st.analysed),
          i === current ? '← now' : i < current ? 'done' : '',
        ]),
      ]),
    );
  }
  const results = s.analysis?.results ?? [];
  if (results.length) {
    io.out.write(
      `\nAnalysis (${s.analysis?.successful ?? 0} passing in this step, ${s.analysis?.failed ?? 0} failed of ${spec.analysis?.failureLimit ?? 0} tolerated):\n`,
    );
    io.out.write(
      table([
        ['METRIC', 'RESULT', 'VALUE', 'MEASURED', 'DETAIL'],
        ...results.map((r) => [
          r.name,
          r.phase,
          r.value === undefined ? '-' : String(r.value),
          r.measuredAt ? `${age(r.measuredAt)} ago` : '-',
          r.message ?? '',
        ]),
      ]),
    );
  }
  const events = await recentEvents(kube, rollout);
  if (events.length) io.out.write(`\nEvents:\n${table([['AGE', 'TYPE', 'REASON', 'MESSAGE'], ...events])}`);
}

function waitOf(pause: number | 'promote', analysed: boolean): string {
  const wait = pause === 'promote' ? 'until promoted' : pause ? formatDuration(pause) : '-';
  return analysed ? `${wait}, analysis` : wait;
}

/** The live route's weights (what a gateway reads), which may lag the status for a moment. */
async function routeLine(kube: KubeClient, rollout: Rollout): Promise<string> {
  const name = routeName(rollout);
  const route = await kube
    .getOrNull<KubeObject>({ ...HTTP_ROUTE, name, namespace: rollout.metadata.namespace! })
    .catch(() => undefined);
  if (!route) return `HTTPRoute ${name} (not written yet)`;
  return `HTTPRoute ${name}: ${routeWeights(route)
    .map((w) => `${w.revision} ${w.weight}`)
    .join(', ')}`;
}

async function recentEvents(kube: KubeClient, rollout: Rollout): Promise<string[][]> {
  const { items } = await kube
    .list<KubeObject>('events.k8s.io/v1', 'Event', { namespace: rollout.metadata.namespace! })
    .catch(() => ({ items: [] as KubeObject[] }));
  const time = (e: KubeObject) =>
    String(
      (e.series as { lastObservedTime?: string } | undefined)?.lastObservedTime ??
        e.eventTime ??
        e.metadata.creationTimestamp ??
        '',
    );
  return items
    .filter((e) => {
      const r = e.regarding as { kind?: string; name?: string } | undefined;
      return r?.kind === 'Rollout' && r.name === rollout.metadata.name;
    })
    .sort((a, b) => Date.parse(time(a)) - Date.parse(time(b)))
    .slice(-8)
    .map((e) => [age(time(e)), String(e.type ?? ''), String(e.reason ?? ''), String(e.note ?? '')]);
}
