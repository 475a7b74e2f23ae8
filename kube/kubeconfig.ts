/**
 * Reading kubeconfig as kubectl does (client-go's clientcmd loading rules), without importing
 * @kubernetes/client-node (most of a second at start-up, and it drops `proxy-url` and
 * `tls-server-name` on our own agent):
 *
 * - `--kubeconfig <file>`: that file only, which must exist;
 * - else `KUBECONFIG`, a list of files (`:`-separated; `;` on Windows): files that do not exist are
 *   skipped; the first file to define a cluster, user or context name wins, and the first to set
 *   `current-context` sets it;
 * - else `~/.kube/config`; else the in-cluster ServiceAccount (KUBERNETES_SERVICE_HOST and the
 *   mounted token); else a {@link KubeconfigError} saying so.
 *
 * Relative file paths in a file are relative to that file's folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { KubeconfigError } from './errors.js';

/** An exec credential plugin (`users[].user.exec`), as kubectl runs it. */
export interface ExecConfig {
  command: string;
  args?: string[];
  env?: { name: string; value: string }[];
  apiVersion?: string;
  /** Printed when the command is missing. */
  installHint?: string;
  /** Pass the cluster's info to the plugin in KUBERNETES_EXEC_INFO. */
  provideClusterInfo?: boolean;
}

export interface ClusterConfig {
  server: string;
  /** PEM of the CA bundle (from `certificate-authority-data` or the file). */
  ca?: Buffer;
  insecureSkipTlsVerify?: boolean;
  /** The name to verify the server's certificate against, and to send in SNI, instead of the server's host. */
  tlsServerName?: string;
  /** `http://`, `https://` or `socks5://` proxy every request goes through. */
  proxyUrl?: string;
}

export interface UserConfig {
  /** The user's name in the kubeconfig (not necessarily who the API server says it is). */
  name: string;
  token?: string;
  /** A file holding the bearer token, re-read as it changes (projected ServiceAccount tokens). */
  tokenFile?: string;
  clientCertificate?: Buffer;
  clientKey?: Buffer;
  username?: string;
  password?: string;
  exec?: ExecConfig;
  authProvider?: { name: string; config: Record<string, string> };
  /** `as` / `as-groups`: act as another identity. */
  impersonate?: string;
  impersonateGroups?: string[];
}

/** The context in use, resolved to its cluster and user. */
export interface ResolvedKubeconfig {
  /** The files read, or `in-cluster` (for messages). */
  origin: string[];
  context: string;
  /** The context's namespace, if it sets one. */
  namespace?: string;
  cluster: ClusterConfig;
  user: UserConfig;
}

export interface KubeconfigSource {
  /** A file to read instead of the usual places (`--kubeconfig`). */
  kubeconfig?: string;
  /** The context to use instead of `current-context` (`--context`). */
  context?: string;
  /** Where KUBECONFIG, HOME and the in-cluster variables are read from. @default process.env */
  env?: NodeJS.ProcessEnv;
}

type Named<T> = { name?: string } & Record<string, T>;
interface RawFile {
  dir: string;
  file: string;
  clusters: Map<string, Record<string, unknown>>;
  users: Map<string, Record<string, unknown>>;
  contexts: Map<string, Record<string, unknown>>;
  currentContext?: string;
}

const IN_CLUSTER = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Reads the kubeconfig the way kubectl does and resolves the context to use. */
export function loadKubeconfig(source: KubeconfigSource = {}): ResolvedKubeconfig {
  const env = source.env ?? process.env;
  const files = kubeconfigFiles(source, env);
  if (!files.length) {
    const inCluster = inClusterConfig(env);
    if (inCluster) return { ...inCluster, ...(source.context ? { context: source.context } : {}) };
    throw new KubeconfigError(
      'TRL_KUBE_NO_CONFIG',
      'no kubeconfig found: pass --kubeconfig <file>, set KUBECONFIG, or create ~/.kube/config (`trellis up` prints an `export KUBECONFIG=...` line for its local cluster)',
    );
  }
  const raw = files.map(readRaw);
  const merged = {
    clusters: firstWins(raw, (r) => r.clusters),
    users: firstWins(raw, (r) => r.users),
    contexts: firstWins(raw, (r) => r.contexts),
    currentContext: raw.find((r) => r.currentContext)?.currentContext,
  };
  const where = files.join(', ');
  const contextName = source.context ?? merged.currentContext;
  const contextNames = [...merged.contexts.keys()];
  if (!contextName) {
    throw new KubeconfigError(
      'TRL_KUBE_CONTEXT',
      `${where} sets no current-context: pass --context <name>${contextNames.length ? ` (contexts: ${contextNames.join(', ')})` : ' (it defines no context)'}`,
    );
  }
  const context = merged.contexts.get(contextName);
  if (!context) {
    throw new KubeconfigError(
      'TRL_KUBE_CONTEXT',
      `context "${contextName}" does not exist in ${where}${contextNames.length ? ` (contexts: ${contextNames.join(', ')})` : ' (it defines no context)'}`,
    );
  }
  const clusterName = str(context.value.cluster);
  const userName = str(context.value.user);
  const cluster = clusterName === undefined ? undefined : merged.clusters.get(clusterName);
  if (!cluster)
    throw new KubeconfigError(
      'TRL_KUBE_CONFIG',
      `context "${contextName}" names cluster "${clusterName ?? ''}", which ${where} does not define`,
    );
  const user = userName === undefined ? undefined : merged.users.get(userName);
  if (userName !== undefined && !user)
    throw new KubeconfigError(
      'TRL_KUBE_CONFIG',
      `context "${contextName}" names user "${userName}", which ${where} does not define`,
    );
  const namespace = str(context.value.namespace);
  return {
    origin: files,
    context: contextName,
    ...(namespace ? { namespace } : {}),
    cluster: toCluster(cluster.value, cluster.dir, `cluster "${clusterName}" in ${cluster.file}`),
    user: user ? toUser(userName!, user.value, user.dir, `user "${userName}" in ${user.file}`) : { name: '' },
  };
}

/** The files kubectl would read, in order; empty when there is none. */
export function kubeconfigFiles(source: KubeconfigSource, env: NodeJS.ProcessEnv): string[] {
  if (source.kubeconfig) {
    if (!existsSync(source.kubeconfig))
      throw new KubeconfigError('TRL_KUBE_NO_CONFIG', `kubeconfig ${source.kubeconfig} does not exist`);
    return [source.kubeconfig];
  }
  if (env.KUBECONFIG) {
    const delimiter = process.platform === 'win32' ? ';' : ':';
    return [...new Set(env.KUBECONFIG.split(delimiter).filter((f) => f && existsSync(f)))];
  }
  const home = env.HOME || env.USERPROFILE || os.homedir();
  const file = path.join(home, '.kube', 'config');
  return existsSync(file) ? [file] : [];
}

function readRaw(file: string): RawFile {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new KubeconfigError(
      'TRL_KUBE_CONFIG',
      `${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`,
      { cause: err },
    );
  }
  const obj = (doc && typeof doc === 'object' ? doc : {}) as Record<string, unknown>;
  const byName = (key: string, field: string) => {
    const map = new Map<string, Record<string, unknown>>();
    const list = Array.isArray(obj[key]) ? (obj[key] as Named<unknown>[]) : [];
    for (const entry of list) {
      const name = str(entry?.name);
      const value = entry?.[field];
      if (name !== undefined && !map.has(name))
        map.set(name, value && typeof value === 'object' ? (value as Record<string, unknown>) : {});
    }
    return map;
  };
  const current = str(obj['current-context']);
  return {
    file,
    dir: path.dirname(path.resolve(file)),
    clusters: byName('clusters', 'cluster'),
    users: byName('users', 'user'),
    contexts: byName('contexts', 'context'),
    ...(current ? { currentContext: current } : {}),
  };
}

/** Merges maps of several files: the first file to define a name wins (kubectl's rule). */
function firstWins(
  files: RawFile[],
  pick: (r: RawFile) => Map<string, Record<string, unknown>>,
): Map<string, { value: Record<string, unknown>; file: string; dir: string }> {
  const out = new Map<string, { value: Record<string, unknown>; file: string; dir: string }>();
  for (const r of files)
    for (const [name, value] of pick(r)) if (!out.has(name)) out.set(name, { value, file: r.file, dir: r.dir });
  return out;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function fileOrData(dir: string, file: unknown, data: unknown, what: string): Buffer | undefined {
  if (str(data)) return Buffer.from(str(data)!, 'base64');
  const name = str(file);
  if (!name) return undefined;
  const full = path.resolve(dir, name);
  try {
    return readFileSync(full);
  } catch (err) {
    throw new KubeconfigError('TRL_KUBE_CONFIG', `${what}: cannot read ${full}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function toCluster(c: Record<string, unknown>, dir: string, what: string): ClusterConfig {
  const server = str(c.server);
  if (!server) throw new KubeconfigError('TRL_KUBE_CONFIG', `${what} has no server`);
  const ca = fileOrData(dir, c['certificate-authority'], c['certificate-authority-data'], what);
  const tlsServerName = str(c['tls-server-name']);
  const proxyUrl = str(c['proxy-url']);
  return {
    server,
    ...(ca ? { ca } : {}),
    ...(c['insecure-skip-tls-verify'] === true ? { insecureSkipTlsVerify: true } : {}),
    ...(tlsServerName ? { tlsServerName } : {}),
    ...(proxyUrl ? { proxyUrl } : {}),
  };
}

function toUser(name: string, u: Record<string, unknown>, dir: string, what: string): UserConfig {
  const cert = fileOrData(dir, u['client-certificate'], u['client-certificate-data'], what);
  const key = fileOrData(dir, u['client-key'], u['client-key-data'], what);
  const tokenFile = str(u.tokenFile) ?? str(u['token-file']);
  const exec = u.exec && typeof u.exec === 'object' ? (u.exec as ExecConfig) : undefined;
  if (exec && !str(exec.command)) throw new KubeconfigError('TRL_KUBE_CONFIG', `${what}: exec has no command`);
  const provider = u['auth-provider'] as { name?: string; config?: Record<string, string> } | undefined;
  const as = str(u.as);
  const groups = Array.isArray(u['as-groups']) ? (u['as-groups'] as string[]) : undefined;
  return {
    name,
    ...(str(u.token) ? { token: str(u.token)! } : {}),
    ...(tokenFile ? { tokenFile: path.resolve(dir, tokenFile) } : {}),
    ...(cert ? { clientCertificate: cert } : {}),
    ...(key ? { clientKey: key } : {}),
    ...(str(u.username) ? { username: str(u.username)!, password: str(u.password) ?? '' } : {}),
    ...(exec
      ? { exec: { ...exec, command: exec.command.includes('/') ? path.resolve(dir, exec.command) : exec.command } }
      : {}),
    ...(provider?.name ? { authProvider: { name: provider.name, config: provider.config ?? {} } } : {}),
    ...(as ? { impersonate: as } : {}),
    ...(groups?.length ? { impersonateGroups: groups } : {}),
  };
}

/** The ServiceAccount a pod runs as, when Trellis runs in a cluster. */
function inClusterConfig(env: NodeJS.ProcessEnv): ResolvedKubeconfig | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port || !existsSync(path.join(IN_CLUSTER, 'token'))) return undefined;
  const namespaceFile = path.join(IN_CLUSTER, 'namespace');
  const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : undefined;
  return {
    origin: ['in-cluster'],
    context: 'in-cluster',
    ...(namespace ? { namespace } : {}),
    cluster: {
      server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
      ca: readFileSync(path.join(IN_CLUSTER, 'ca.crt')),
    },
    user: { name: 'in-cluster', tokenFile: path.join(IN_CLUSTER, 'token') },
  };
}
