import type { ParseArgsConfig } from 'node:util';
import { KubeClient } from '../kube/index.js';

/** Options every command that talks to a cluster takes. */
export const KUBE_OPTIONS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
} as const satisfies ParseArgsConfig['options'];

export const KUBE_USAGE = `  --kubeconfig <file>   kubeconfig to use (default: KUBECONFIG, ~/.kube/config)
  --context <name>      kubeconfig context (default: its current one)
  -n, --namespace <ns>  namespace (default: the context's, else "default")`;

/** A client for the command's cluster, and the namespace it works in. */
export async function connect(values: { kubeconfig?: string | undefined; context?: string | undefined; namespace?: string | undefined }, fieldManager = 'trellis'): Promise<{ kube: KubeClient; namespace: string }> {
  const kube = await KubeClient.connect({ ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}), ...(values.context ? { context: values.context } : {}), fieldManager });
  const config = kube.connection.config;
  const namespace = values.namespace ?? config.getContextObject(config.getCurrentContext())?.namespace ?? 'default';
  return { kube, namespace };
}
