import { stringify } from 'yaml';

export interface KubeconfigOptions {
  server: string;
  caCert: string;
  /** Client certificate authentication… */
  clientCert?: string;
  clientKey?: string;
  /** …or a bearer token. */
  token?: string;
  /** @default 'trellis' */
  contextName?: string;
  /** @default 'admin' */
  userName?: string;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A self-contained kubeconfig (certificates embedded) for one user on one server. */
export function renderKubeconfig(o: KubeconfigOptions): string {
  const context = o.contextName ?? 'trellis';
  const user = o.userName ?? 'admin';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: context, cluster: { server: o.server, 'certificate-authority-data': b64(o.caCert) } }],
    users: [
      {
        name: user,
        user: o.token
          ? { token: o.token }
          : { 'client-certificate-data': b64(o.clientCert ?? ''), 'client-key-data': b64(o.clientKey ?? '') },
      },
    ],
    contexts: [{ name: context, context: { cluster: context, user } }],
    'current-context': context,
  });
}
