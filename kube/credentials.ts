/**
 * The credentials of a kubeconfig user, as kubectl sends them: a bearer token (or a token file,
 * re-read as it rotates), basic auth, a client certificate, an exec credential plugin
 * (client.authentication.k8s.io, cached until it expires, run again after a 401), or an
 * auth-provider (`oidc`, and the legacy `gcp`/`azure`, through @kubernetes/client-node's
 * authenticators, imported only when a kubeconfig names one).
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { KubeconfigError } from './errors.js';
import type { ClusterConfig, ExecConfig, UserConfig } from './kubeconfig.js';

/** What goes on the next request: headers, and a client certificate for the TLS handshake. */
export interface CredentialSet {
  headers: Record<string, string>;
  cert?: Buffer;
  key?: Buffer;
}

/** How often a token file and auth-provider headers are read again. */
const REFRESH_MS = 60_000;

interface ExecCredential {
  status?: { token?: string; clientCertificateData?: string; clientKeyData?: string; expirationTimestamp?: string };
}

/**
 * The credentials of one user; {@link current} is cheap (cached) and safe to call per request.
 *
 * @example
 *   const creds = new Credentials(config.user, config.cluster, { env })
 *   const { headers, cert, key } = await creds.current()
 */
export class Credentials {
  private cached: { set: CredentialSet; until: number } | undefined;
  private pending: Promise<CredentialSet> | undefined;

  constructor(
    readonly user: UserConfig,
    private readonly cluster: ClusterConfig,
    private readonly options: { env?: NodeJS.ProcessEnv } = {},
  ) {}

  /** Forgets cached credentials (after a 401): the next {@link current} runs the plugin or reads the file again. */
  invalidate(): void {
    this.cached = undefined;
  }

  async current(now = Date.now()): Promise<CredentialSet> {
    if (this.cached && now < this.cached.until) return this.cached.set;
    this.pending ??= this.load(now).finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async load(now: number): Promise<CredentialSet> {
    const u = this.user;
    const headers: Record<string, string> = {};
    let cert = u.clientCertificate;
    let key = u.clientKey;
    let until = Infinity;
    if (u.username !== undefined)
      headers.authorization = `Basic ${Buffer.from(`${u.username}:${u.password ?? ''}`).toString('base64')}`;
    if (u.token) headers.authorization = `Bearer ${u.token}`;
    if (u.tokenFile) {
      const token = (
        await readFile(u.tokenFile, 'utf8').catch((err: Error) => {
          throw new KubeconfigError(
            'TRL_KUBE_AUTH',
            `user "${u.name}": cannot read its token file ${u.tokenFile}: ${err.message}`,
            { cause: err },
          );
        })
      ).trim();
      headers.authorization = `Bearer ${token}`;
      until = now + REFRESH_MS;
    }
    if (u.exec) {
      const status = (await runExecPlugin(u.exec, this.cluster, u.name, this.options.env ?? process.env)).status ?? {};
      if (status.token) headers.authorization = `Bearer ${status.token}`;
      if (status.clientCertificateData) cert = Buffer.from(status.clientCertificateData);
      if (status.clientKeyData) key = Buffer.from(status.clientKeyData);
      // Without an expiry kubectl keeps the credential until the server refuses it (a 401 invalidates it).
      if (status.expirationTimestamp) until = Math.min(until, Date.parse(status.expirationTimestamp) - 10_000);
    }
    if (u.authProvider) {
      Object.assign(headers, await authProviderHeaders(u));
      until = Math.min(until, now + REFRESH_MS);
    }
    if (u.impersonate) headers['impersonate-user'] = u.impersonate;
    const set: CredentialSet = { headers, ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
    this.cached = { set, until };
    return set;
  }
}

/**
 * Runs an exec credential plugin as kubectl does: its `env` added to ours, `KUBERNETES_EXEC_INFO`
 * describing the request (non-interactive; the cluster when `provideClusterInfo`), stdout parsed
 * as an ExecCredential.
 */
export async function runExecPlugin(
  exec: ExecConfig,
  cluster: ClusterConfig,
  userName: string,
  env: NodeJS.ProcessEnv,
): Promise<ExecCredential> {
  const apiVersion = exec.apiVersion ?? 'client.authentication.k8s.io/v1';
  const info = {
    apiVersion,
    kind: 'ExecCredential',
    spec: {
      interactive: false,
      ...(exec.provideClusterInfo
        ? {
            cluster: {
              server: cluster.server,
              ...(cluster.tlsServerName ? { 'tls-server-name': cluster.tlsServerName } : {}),
              ...(cluster.ca ? { 'certificate-authority-data': cluster.ca.toString('base64') } : {}),
              ...(cluster.insecureSkipTlsVerify ? { 'insecure-skip-tls-verify': true } : {}),
              ...(cluster.proxyUrl ? { 'proxy-url': cluster.proxyUrl } : {}),
            },
          }
        : {}),
    },
  };
  const childEnv: NodeJS.ProcessEnv = { ...env, KUBERNETES_EXEC_INFO: JSON.stringify(info) };
  for (const e of exec.env ?? []) childEnv[e.name] = e.value;
  const what = `user "${userName}": exec plugin ${exec.command}`;
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      const child = spawn(exec.command, exec.args ?? [], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      child.on('error', (e: NodeJS.ErrnoException) => {
        const hint =
          e.code === 'ENOENT'
            ? `not found${exec.installHint ? `. ${exec.installHint.trim()}` : ' (is it installed and on PATH?)'}`
            : e.message;
        reject(new KubeconfigError('TRL_KUBE_AUTH', `${what}: ${hint}`, { cause: e }));
      });
      child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
    },
  );
  if (code !== 0)
    throw new KubeconfigError(
      'TRL_KUBE_AUTH',
      `${what} exited with ${code}${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' ')}` : ''}`,
    );
  try {
    const credential = JSON.parse(stdout) as ExecCredential & { kind?: string };
    if (credential.kind !== 'ExecCredential' || !credential.status)
      throw new Error('not an ExecCredential with a status');
    return credential;
  } catch (err) {
    throw new KubeconfigError('TRL_KUBE_AUTH', `${what} printed no ExecCredential: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

interface Authenticator {
  applyAuthentication(user: unknown, opts: { headers?: Record<string, unknown> }): Promise<void>;
}

/** Headers from an auth-provider, through client-node's authenticator for it (imported only now). */
async function authProviderHeaders(user: UserConfig): Promise<Record<string, string>> {
  const provider = user.authProvider!;
  const load: Record<string, () => Promise<Authenticator>> = {
    oidc: async () =>
      new (await import('@kubernetes/client-node/dist/oidc_auth.js')).OpenIDConnectAuth() as Authenticator,
    gcp: async () =>
      new (await import('@kubernetes/client-node/dist/gcp_auth.js')).GoogleCloudPlatformAuth() as Authenticator,
    azure: async () => new (await import('@kubernetes/client-node/dist/azure_auth.js')).AzureAuth() as Authenticator,
  };
  const make = load[provider.name];
  if (!make)
    throw new KubeconfigError(
      'TRL_KUBE_AUTH',
      `user "${user.name}": auth-provider "${provider.name}" is not supported (oidc, gcp and azure are; kubectl itself now uses exec plugins)`,
    );
  const opts: { headers: Record<string, unknown> } = { headers: {} };
  try {
    await (await make()).applyAuthentication({ name: user.name, authProvider: provider }, opts);
  } catch (err) {
    throw new KubeconfigError(
      'TRL_KUBE_AUTH',
      `user "${user.name}": auth-provider "${provider.name}" failed: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.headers)) if (v !== undefined) out[k.toLowerCase()] = String(v);
  return out;
}
