import { parseArgs, type ParseArgsConfig } from 'node:util';
import { KubeClient } from '../kube/index.js';
import { UsageError } from './command.js';

/** Options every command that talks to a cluster takes. */
export const KUBE_OPTIONS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
} as const satisfies ParseArgsConfig['options'];

export const KUBE_USAGE = `  --kubeconfig <file>   kubeconfig to use (default: KUBECONFIG, ~/.kube/config)
  --context <name>      kubeconfig context (default: its current one)
  -n, --namespace <ns>  namespace (default: the context's, else "default")`;

/** `parseArgs` that reports mistakes as {@link UsageError}s (exit 2 with usage). */
export function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** A client for the command's cluster, and the namespace it works in. */
export async function connect(values: { kubeconfig?: string | undefined; context?: string | undefined; namespace?: string | undefined }, fieldManager = 'trellis'): Promise<{ kube: KubeClient; namespace: string }> {
  const kube = await KubeClient.connect({ ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}), ...(values.context ? { context: values.context } : {}), fieldManager });
  const config = kube.connection.config;
  const namespace = values.namespace ?? config.getContextObject(config.getCurrentContext())?.namespace ?? 'default';
  return { kube, namespace };
}

/** `45s`, `12m`, `3h`, `4d` — how kubectl prints ages. */
export function age(timestamp: string | undefined, now = Date.now()): string {
  if (!timestamp) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(timestamp)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** Left-aligned columns separated by two spaces, like kubectl. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}
