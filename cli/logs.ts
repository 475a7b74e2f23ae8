import type { KubeClient, KubeObject } from '../kube/index.js';
import { parseDuration } from '../lib/duration.js';
import { TrellisError } from '../lib/errors.js';
import { isRecord } from '../lib/is-record.js';
import { parse } from './args.js';
import type { Command, CommandIO } from './command.js';
import { UsageError } from './command.js';
import { connect, KUBE_OPTIONS, KUBE_USAGE } from './kube-args.js';
import { readAppConfig } from './status.js';

const usage = `trellis logs — print the logs of an ApplicationConfiguration's pods, each line prefixed with pod/container

Usage: trellis logs <appconfig> [options]

Like \`stern\` / \`kubectl logs --prefix\` over every pod of the application: its workloads (a Function's
revisions too) found from its status, their pods by selector, every container, through the API server
(pods/log). Under \`trellis up\` a Function's instances are local processes: the local runner serves
their output to the API server as a kubelet would (no timestamps, so --since does not apply to them).
A pod whose node serves no logs (a kwok-simulated node serves only the file a kwok Logs object names) is
named on stderr with the reason.

Options:
${KUBE_USAGE}
  --component <name>    only the pods of this component
  -c, --container <c>   only this container (default: every container)
  -f, --follow          keep printing new lines until interrupted
  --tail <n>            only the last n lines of each container (default: all)
  --since <duration>    only lines newer than this (e.g. 5m, 1h)`;

interface PodView extends KubeObject {
  spec?: { nodeName?: string; containers?: { name: string }[] };
}

export const logsCommand: Command = {
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      ...KUBE_OPTIONS,
      component: { type: 'string' },
      container: { type: 'string', short: 'c' },
      follow: { type: 'boolean', short: 'f' },
      tail: { type: 'string' },
      since: { type: 'string' },
    });
    if (positionals.length !== 1) throw new UsageError('name one ApplicationConfiguration');
    const tail = values.tail === undefined ? undefined : Number(values.tail);
    if (tail !== undefined && !(Number.isInteger(tail) && tail >= 0))
      throw new UsageError(`--tail must be a whole number, got "${values.tail}"`);
    const sinceMs = values.since === undefined ? undefined : parseDuration(values.since, NaN);
    if (sinceMs !== undefined && !(sinceMs > 0))
      throw new UsageError(`--since must be a duration such as 30s, 5m or 1h, got "${values.since}"`);
    const { kube, namespace } = await connect(values, io);
    try {
      const app = await readAppConfig(kube, namespace, positionals[0]!);
      const workloads = ((app.status as { workloads?: WorkloadEntry[] } | undefined)?.workloads ?? []).filter(
        (w) => !values.component || w.componentName === values.component,
      );
      if (values.component && !workloads.length)
        throw new UsageError(`ApplicationConfiguration ${positionals[0]} has no component "${values.component}"`);
      const pods = (
        await Promise.all(workloads.flatMap((w) => (w.workloadRef ? [podsOf(kube, namespace, w.workloadRef)] : [])))
      )
        .flat()
        .filter((p, i, all) => all.findIndex((q) => q.metadata.uid === p.metadata.uid) === i);
      if (!pods.length) {
        io.err.write(`No pods for ApplicationConfiguration ${namespace}/${positionals[0]} (yet).\n`);
        return 0;
      }
      const query = {
        follow: values.follow ? 'true' : undefined,
        tailLines: tail,
        sinceSeconds: sinceMs === undefined ? undefined : Math.ceil(sinceMs / 1000),
      };
      const streams = pods.flatMap((pod) =>
        (pod.spec?.containers ?? [])
          .filter((c) => !values.container || c.name === values.container)
          .map((c) => streamLogs(kube, pod, c.name, query, io)),
      );
      const results = await Promise.all(streams);
      if (results.some(Boolean) || !results.length) return 0;
      throw new TrellisError(
        'TRL_LOGS_UNAVAILABLE',
        `none of its ${results.length} container(s) served logs (each is named above with the reason)`,
        { object: `ApplicationConfiguration/${namespace}/${positionals[0]}` },
      );
    } finally {
      kube.close();
    }
  },
};

interface WorkloadEntry {
  componentName: string;
  workloadRef?: { apiVersion: string; kind: string; name: string };
}

/**
 * The pods of a workload: by its `spec.selector` (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job),
 * else through what its status names as its own workloads (a Function's revision Deployments).
 */
async function podsOf(
  kube: KubeClient,
  namespace: string,
  ref: { apiVersion: string; kind: string; name: string },
  depth = 0,
): Promise<PodView[]> {
  const obj = await kube.getOrNull<KubeObject & Record<string, unknown>>({ ...ref, namespace }).catch(() => undefined);
  if (!obj) return [];
  const spec = isRecord(obj.spec) ? obj.spec : {};
  const selector =
    isRecord(spec.selector) && isRecord(spec.selector.matchLabels) ? spec.selector.matchLabels : undefined;
  if (selector) {
    const labelSelector = Object.entries(selector)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(',');
    return (await kube.list<PodView>('v1', 'Pod', { namespace, labelSelector })).items;
  }
  const status = isRecord(obj.status) ? obj.status : {};
  const owned = Array.isArray(status.workload)
    ? (status.workload as { apiVersion: string; kind: string; name: string }[])
    : [];
  if (depth > 1) return [];
  return (await Promise.all(owned.map((r) => podsOf(kube, namespace, r, depth + 1)))).flat();
}

/** Streams one container's log to stdout, each line prefixed; false (and a line on stderr) when there is none. */
async function streamLogs(
  kube: KubeClient,
  pod: PodView,
  container: string,
  query: Record<string, string | number | undefined>,
  io: Pick<CommandIO, 'out' | 'err'>,
): Promise<boolean> {
  const prefix = `[${pod.metadata.name}/${container}] `;
  const where = `pod ${pod.metadata.name}, container ${container}`;
  if (!pod.spec?.nodeName) {
    io.err.write(`${where}: no logs yet: the pod is not scheduled to a node\n`);
    return false;
  }
  const path = `/api/v1/namespaces/${encodeURIComponent(pod.metadata.namespace!)}/pods/${encodeURIComponent(pod.metadata.name!)}/log`;
  const res = await kube.raw(path, { query: { container, ...query }, timeoutMs: 0 });
  if (res.statusCode !== 200) {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let message = text.trim();
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {
      // plain text
    }
    io.err.write(
      `${where}: no logs from node ${pod.spec.nodeName}${await nodeNote(kube, pod.spec.nodeName)}: ${message}\n`,
    );
    return false;
  }
  let buffered = '';
  res.setEncoding('utf8');
  for await (const chunk of res) {
    buffered += chunk as string;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      io.out.write(`${prefix}${buffered.slice(0, nl)}\n`);
      buffered = buffered.slice(nl + 1);
    }
  }
  if (buffered) io.out.write(`${prefix}${buffered}\n`);
  return true;
}

/** Why a node may serve no logs: a kwok-simulated node runs no processes. */
async function nodeNote(kube: KubeClient, name: string): Promise<string> {
  const node = await kube.getOrNull({ apiVersion: 'v1', kind: 'Node', name }).catch(() => undefined);
  return node?.metadata.annotations?.['kwok.x-k8s.io/node']
    ? " (a kwok-simulated node: no process runs there; it serves a container's log only from the file a kwok Logs object names)"
    : '';
}
