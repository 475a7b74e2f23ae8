import { stringify } from 'yaml';
import type { Function as OpenFaasFunction } from '../apis/generated/openfaas.com-v1.js';
import type {
  Function as TrellisFunction,
  FunctionSpec as TrellisFunctionSpec,
} from '../apis/generated/serverless.trellis.dev-v1alpha1.js';
import { KubeApiError, UnknownKindError, type KubeClient, type KubeObject } from '../kube/index.js';
import { TrellisError } from '../lib/errors.js';
import { age, OUTPUT_OPTION, outputFormat, outputUsage, parse, table } from './args.js';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { describeFunction } from './fn-describe.js';
import { invokeFunction, INVOKE_OPTIONS } from './fn-invoke.js';
import { connect, KUBE_OPTIONS, KUBE_USAGE } from './kube-args.js';

const usage = `trellis fn — list, describe and call serverless Functions (like \`kn service\`, \`faas-cli invoke\`)

Usage: trellis fn list [-A] [options]
       trellis fn describe <function> [options]
       trellis fn invoke <function> [--method M] [-H 'Name: value'] [--path /p] < body

\`list\` shows each Function's address, whether it is ready, its instances (ready/all), its latest
ready revision and how its traffic is split. \`describe\` adds the spec, every revision with its share
and instances, the conditions, the scaling state and the recent Events. \`invoke\` sends one request
through the Function's address — on \`trellis up\` the local activator on loopback, on a cluster the
API server's service proxy (services/<function>:http/proxy) — with standard input as the body, prints
the answer and exits 1 unless it is 2xx. Both Trellis (serverless.trellis.dev) and OpenFaaS
(openfaas.com) Functions.

Options:
${KUBE_USAGE}
  -A, --all-namespaces  list: Functions of every namespace
${outputUsage(['yaml', 'json', 'wide', 'name'], 24)}
  -X, --method <verb>   invoke: HTTP method (default: POST with a body on standard input, else GET)
  -H, --header <h>      invoke: a request header "Name: value" (repeatable)
  --path <path>         invoke: request path under the Function (default: /)
  -i, --include         invoke: print the answer's status line and headers before its body`;

/** The Function kinds Trellis serves: its own, and OpenFaaS' (when its CRD is installed). */
export const FUNCTION_KINDS = ['serverless.trellis.dev/v1alpha1', 'openfaas.com/v1'] as const;

/** A Function of either kind as the API server answers it (the generated types of both CRDs). */
export type FunctionView = (TrellisFunction | OpenFaasFunction) & KubeObject;

/**
 * The spec fields `describe` shows, for either kind: an OpenFaaS Function has only `image` and
 * `handler` of them (its scale bounds live in labels, which the runtime maps).
 */
export const runtimeSpecOf = (fn: FunctionView): TrellisFunctionSpec =>
  fn.apiVersion === 'openfaas.com/v1' ? { image: fn.spec.image, handler: fn.spec.handler } : (fn.spec ?? {});

const SUBCOMMANDS = ['list', 'describe', 'invoke'];

export const fnCommand: Command = {
  usage,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (!sub) throw new UsageError(`name what to do: ${SUBCOMMANDS.join(', ')}`);
    if (!SUBCOMMANDS.includes(sub)) throw new UsageError(`no fn subcommand "${sub}": ${SUBCOMMANDS.join(', ')}`);
    const { values, positionals } = parse(rest, {
      ...KUBE_OPTIONS,
      ...OUTPUT_OPTION,
      ...INVOKE_OPTIONS,
      'all-namespaces': { type: 'boolean', short: 'A' },
    });
    const misplaced = [
      ...(sub !== 'invoke' ? Object.keys(INVOKE_OPTIONS).filter((o) => values[o as keyof typeof INVOKE_OPTIONS]) : []),
      ...(sub !== 'list' && values['all-namespaces'] ? ['all-namespaces'] : []),
      ...(sub === 'invoke' && values.output !== undefined ? ['output'] : []),
    ];
    if (misplaced.length) throw new UsageError(`--${misplaced[0]} does not apply to \`trellis fn ${sub}\``);
    const output = outputFormat(values.output, sub === 'list' ? ['yaml', 'json', 'wide', 'name'] : ['yaml', 'json']);
    if (sub === 'list' ? positionals.length > 0 : positionals.length !== 1)
      throw new UsageError(sub === 'list' ? `unexpected argument "${positionals[0]}"` : 'name one Function');
    const { kube, namespace } = await connect(values, io);
    try {
      if (sub === 'list') {
        const functions = await listFunctions(kube, values['all-namespaces'] ? undefined : namespace);
        return printList(functions, output, !!values['all-namespaces'], io, namespace);
      }
      const fn = await readFunction(kube, namespace, positionals[0]!);
      if (sub === 'describe') return await describeFunction(kube, fn, output, io);
      return await invokeFunction(kube, fn, values, io);
    } finally {
      kube.close();
    }
  },
  async complete(args) {
    return args.length <= 1 ? SUBCOMMANDS : [];
  },
};

/** Every Function (both kinds) in `namespace`, or in every namespace; a kind whose CRD is absent is skipped. */
export async function listFunctions(kube: KubeClient, namespace: string | undefined): Promise<FunctionView[]> {
  const lists = await Promise.all(
    FUNCTION_KINDS.map((apiVersion) =>
      kube.list<FunctionView>(apiVersion, 'Function', namespace ? { namespace } : {}).then(
        // list items come without apiVersion/kind: set them so the view knows which Function it holds
        (l) => l.items.map((f) => ({ ...f, apiVersion, kind: 'Function' }) as FunctionView),
        (err: unknown) => {
          if (apiVersion !== FUNCTION_KINDS[0] && isUnserved(err)) return [];
          throw err;
        },
      ),
    ),
  );
  return lists
    .flat()
    .sort((a, b) =>
      `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`),
    );
}

/** The Function of that name (Trellis' kind first, then OpenFaaS'), or TRL_FN_NOT_FOUND. */
export async function readFunction(kube: KubeClient, namespace: string, name: string): Promise<FunctionView> {
  for (const apiVersion of FUNCTION_KINDS) {
    const fn = await kube
      .getOrNull<FunctionView>({ apiVersion, kind: 'Function', namespace, name })
      .catch((err: unknown) => {
        if (apiVersion !== FUNCTION_KINDS[0] && isUnserved(err)) return undefined;
        throw err;
      });
    if (fn) return { ...fn, apiVersion, kind: 'Function' } as FunctionView;
  }
  throw new TrellisError('TRL_FN_NOT_FOUND', 'no such Function (trellis fn list lists them)', {
    object: `Function/${namespace}/${name}`,
  });
}

/** The API server does not serve that kind (OpenFaaS' CRD is not installed). */
const isUnserved = (err: unknown): boolean =>
  err instanceof UnknownKindError || (err instanceof KubeApiError && err.statusCode === 404);

/** `Ready` condition as kubectl columns print it: True, False or Unknown. */
export const readyOf = (fn: FunctionView): string =>
  fn.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown';

/** `hello-00002=90%, hello-00001=10%`, tags as `@tag`. */
export function trafficOf(fn: FunctionView): string {
  return (fn.status?.traffic ?? [])
    .map((t) => `${t.revisionName ?? 'latest'}=${t.percent ?? 0}%${t.tag ? ` @${t.tag}` : ''}`)
    .join(', ');
}

export const instancesOf = (fn: FunctionView): string => `${fn.status?.readyReplicas ?? 0}/${fn.status?.replicas ?? 0}`;

function printList(
  functions: FunctionView[],
  output: string,
  all: boolean,
  io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream },
  namespace: string,
): number {
  if (output === 'json' || output === 'yaml') {
    const list = { apiVersion: 'v1', kind: 'List', items: functions };
    io.out.write(output === 'json' ? `${JSON.stringify(list, null, 2)}\n` : stringify(list, { lineWidth: 0 }));
    return 0;
  }
  if (output === 'name') {
    for (const f of functions) io.out.write(`function.${f.apiVersion.split('/')[0]}/${f.metadata.name}\n`);
    return 0;
  }
  if (!functions.length) {
    io.err.write(all ? 'No Functions found.\n' : `No Functions found in namespace ${namespace}.\n`);
    return 0;
  }
  const wide = output === 'wide';
  const header = [
    ...(all ? ['NAMESPACE'] : []),
    'NAME',
    'URL',
    'READY',
    'INSTANCES',
    'LATEST',
    'TRAFFIC',
    'AGE',
    ...(wide ? ['KIND', 'REASON'] : []),
  ];
  const rows = functions.map((f) => [
    ...(all ? [f.metadata.namespace ?? ''] : []),
    f.metadata.name ?? '',
    f.status?.url ?? '',
    readyOf(f),
    instancesOf(f),
    f.status?.latestReadyRevisionName ?? '',
    trafficOf(f),
    age(f.metadata.creationTimestamp),
    ...(wide
      ? [
          f.apiVersion.split('/')[0]!,
          (() => {
            const ready = f.status?.conditions?.find((c) => c.type === 'Ready');
            return ready && ready.status !== 'True' ? (ready.reason ?? '') : '';
          })(),
        ]
      : []),
  ]);
  io.out.write(table([header, ...rows]));
  return 0;
}
