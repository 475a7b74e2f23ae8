import { stringify } from 'yaml';
import { eventTime, type EventView } from '../dashboard/model.js';
import type { KubeClient, KubeObject } from '../kube/index.js';
import { age, table } from './args.js';
import type { CommandIO } from './command.js';
import { instancesOf, readyOf, runtimeSpecOf, trafficOf, type FunctionView } from './fn.js';

interface RevisionView extends KubeObject {
  spec?: { handler?: string; image?: string };
  status?: {
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    replicas?: number;
    readyReplicas?: number;
    desiredReplicas?: number;
    traffic?: number;
    tags?: string;
  };
}

const REVISION_LABEL = 'serverless.trellis.dev/function';
/** Events shown by `describe`, newest last (like `kubectl describe`). */
const RECENT_EVENTS = 10;

/**
 * `trellis fn describe`: like `kn service describe` — the Function's address, spec summary, scaling
 * state, revisions with their share and instances, conditions and recent Events (about the Function
 * and its revisions). `-o yaml|json` prints the Function with its revisions and Events as a List.
 */
export async function describeFunction(
  kube: KubeClient,
  fn: FunctionView,
  output: string,
  io: Pick<CommandIO, 'out'>,
): Promise<number> {
  const namespace = fn.metadata.namespace!;
  const name = fn.metadata.name!;
  const [revisions, events] = await Promise.all([
    kube
      .list<RevisionView>('serverless.trellis.dev/v1alpha1', 'FunctionRevision', {
        namespace,
        labelSelector: `${REVISION_LABEL}=${name}`,
      })
      .then((l) => l.items.sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))),
    kube.list<KubeObject & EventView>('v1', 'Event', { namespace }).then((l) => l.items),
  ]);
  const revisionNames = new Set(revisions.map((r) => r.metadata.name));
  const about = events
    .filter((e) => {
      const o = e.involvedObject;
      return (
        (o?.kind === 'Function' && o.name === name) ||
        (o?.kind === 'FunctionRevision' && revisionNames.has(o.name ?? ''))
      );
    })
    .sort((a, b) => eventTime(a).localeCompare(eventTime(b)))
    .slice(-RECENT_EVENTS);
  if (output === 'json' || output === 'yaml') {
    const list = { apiVersion: 'v1', kind: 'List', items: [fn, ...revisions, ...about] };
    io.out.write(output === 'json' ? `${JSON.stringify(list, null, 2)}\n` : stringify(list, { lineWidth: 0 }));
    return 0;
  }
  const spec = runtimeSpecOf(fn);
  const status = fn.status ?? {};
  const field = (label: string, value: string | number | undefined) =>
    value === undefined || value === '' ? '' : `${`${label}:`.padEnd(13)}${value}\n`;
  const scale = spec.scale ?? {};
  const lines = [
    field('Name', name),
    field('Namespace', namespace),
    field('Kind', `Function (${fn.apiVersion})`),
    field('Age', age(fn.metadata.creationTimestamp)),
    field('URL', status.url),
    field('Path', status.path),
    field('Ready', readyOf(fn)),
    '\n',
    field('Image', spec.image),
    field('Handler', spec.handler ? `${spec.handler}${spec.workingDir ? ` (in ${spec.workingDir})` : ''}` : undefined),
    field('Port', spec.port),
    field(
      'Concurrency',
      spec.concurrency ? `target ${spec.concurrency.target ?? '-'}, limit ${spec.concurrency.limit ?? 0}` : undefined,
    ),
    field('Timeout', spec.timeoutSeconds === undefined ? undefined : `${spec.timeoutSeconds}s`),
    field(
      'Scale',
      `min ${scale.min ?? 0}, max ${(scale.max ?? 0) ? scale.max : 'unbounded'}` +
        (scale.idleGraceSeconds !== undefined ? `, idle grace ${scale.idleGraceSeconds}s` : ''),
    ),
    field(
      'Scaling',
      `${status.desiredReplicas ?? 0} desired, ${instancesOf(fn)} instances ready` +
        ((status.replicas ?? 0) === 0 ? ' (scaled to zero: the next request starts one)' : ''),
    ),
    field('Traffic', trafficOf(fn)),
  ];
  io.out.write(lines.join(''));

  io.out.write('\nRevisions:\n');
  if (!revisions.length) io.out.write('  <none>\n');
  else {
    const rows = revisions.map((r) => {
      const marks = [
        r.metadata.name === status.latestReadyRevisionName ? 'latest ready' : '',
        r.metadata.name === status.latestCreatedRevisionName && r.metadata.name !== status.latestReadyRevisionName
          ? 'latest created'
          : '',
        r.status?.tags ? `tags ${r.status.tags}` : '',
      ].filter(Boolean);
      return [
        `  ${r.metadata.name ?? ''}`,
        `${r.status?.traffic ?? 0}%`,
        `${r.status?.readyReplicas ?? 0}/${r.status?.replicas ?? 0}`,
        r.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown',
        age(r.metadata.creationTimestamp),
        marks.join(', '),
      ];
    });
    io.out.write(table([['  NAME', 'TRAFFIC', 'INSTANCES', 'READY', 'AGE', ''], ...rows]));
  }

  io.out.write('\nConditions:\n');
  const conditions = status.conditions ?? [];
  if (!conditions.length) io.out.write('  <none>\n');
  else
    io.out.write(
      table([
        ['  TYPE', 'STATUS', 'REASON', 'AGE', 'MESSAGE'],
        ...conditions.map((c) => [`  ${c.type}`, c.status, c.reason ?? '', age(c.lastTransitionTime), c.message ?? '']),
      ]),
    );

  io.out.write('\nEvents:\n');
  if (!about.length) io.out.write('  <none>\n');
  else
    io.out.write(
      table([
        ['  LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
        ...about.map((e) => [
          `  ${age(eventTime(e))}`,
          e.type ?? '',
          e.reason ?? '',
          `${e.involvedObject?.kind}/${e.involvedObject?.name}`,
          `${e.message ?? ''}${(e.count ?? 1) > 1 ? ` (x${e.count})` : ''}`,
        ]),
      ]),
    );
  return 0;
}
