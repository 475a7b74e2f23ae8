import type { ParseArgsConfig } from 'node:util';
import { KubeClient, type ConnectionOptions } from '../kube/index.js';
import type { CommandIO } from './command.js';

/** Options every command that talks to a cluster takes. */
export const KUBE_OPTIONS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
} as const satisfies ParseArgsConfig['options'];

export const KUBE_USAGE = `  --kubeconfig <file>   kubeconfig to use (default: KUBECONFIG, ~/.kube/config)
  --context <name>      kubeconfig context (default: its current one)
  -n, --namespace <ns>  namespace (default: the context's, else "default")`;

/** Where the command's kubeconfig comes from: the flags, else the environment's KUBECONFIG (kubectl's rules). */
export function kubeSource(
  values: { kubeconfig?: string | undefined; context?: string | undefined },
  io: Pick<CommandIO, 'env'>,
): ConnectionOptions {
  return {
    ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
    ...(values.context ? { context: values.context } : {}),
    env: io.env,
  };
}

/** A client for the command's cluster, and the namespace it works in (the flag, else the context's, else "default"). */
export async function connect(
  values: { kubeconfig?: string | undefined; context?: string | undefined; namespace?: string | undefined },
  io: Pick<CommandIO, 'env'>,
  fieldManager = 'trellis',
): Promise<{ kube: KubeClient; namespace: string }> {
  const kube = await KubeClient.connect({ ...kubeSource(values, io), fieldManager });
  const namespace = values.namespace ?? kube.connection.namespace ?? 'default';
  return { kube, namespace };
}
