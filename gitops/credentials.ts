import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TrellisError } from '../lib/errors.js';

/** Credentials for one repository, decoded from a Secret's data. */
export interface GitCredentials {
  /** HTTPS basic auth. With only `password` (or `token`), the username is `git`. */
  username?: string;
  password?: string;
  /** SSH private key (PEM / OpenSSH). */
  identity?: string;
  /** SSH known_hosts lines; required with `identity`. */
  knownHosts?: string;
}

/** Reads the keys a GitSync Secret may hold (base64 `data`, as the API returns it). */
export function credentialsFromSecret(secret: {
  data?: Record<string, string>;
  metadata?: { name?: string; namespace?: string };
}): GitCredentials {
  const get = (key: string) =>
    secret.data?.[key] !== undefined ? Buffer.from(secret.data[key]!, 'base64').toString('utf8') : undefined;
  const creds: GitCredentials = {};
  const username = get('username');
  const password = get('password') ?? get('token');
  const identity = get('identity');
  const knownHosts = get('known_hosts');
  if (username !== undefined) creds.username = username;
  if (password !== undefined) creds.password = password;
  if (identity !== undefined) creds.identity = identity.endsWith('\n') ? identity : `${identity}\n`;
  if (knownHosts !== undefined) creds.knownHosts = knownHosts;
  if (!creds.password && !creds.identity) {
    const where = secret.metadata ? `Secret/${secret.metadata.namespace}/${secret.metadata.name}` : 'Secret';
    throw new TrellisError('TRL_GITOPS_CREDENTIALS', 'holds neither `password`/`token` (HTTPS) nor `identity` (SSH)', {
      object: where,
      field: 'data',
    });
  }
  return creds;
}

/** Every secret value, for redaction. */
export function secretValues(creds: GitCredentials | undefined): string[] {
  return creds ? [creds.password, creds.identity].filter((s): s is string => !!s) : [];
}

/** Environment and files that hand credentials to git; `dispose()` removes the files. */
export interface CredentialPlumbing {
  env: Record<string, string>;
  dispose(): Promise<void>;
}

// Git asks GIT_ASKPASS "Username for '…': " and "Password for '…': ". The answers come from the
// environment git passes down, so they are never in any process's arguments.
const ASKPASS = `#!/bin/sh
case "$1" in
  Username*) printf '%s' "$TRELLIS_GIT_USERNAME" ;;
  Password*) printf '%s' "$TRELLIS_GIT_PASSWORD" ;;
esac
`;

/**
 * Prepares the environment that lets git authenticate: an askpass script for HTTPS (answers from
 * the environment), or a key and known_hosts file (mode 0600, in a private temporary folder) and
 * `GIT_SSH_COMMAND` with strict host key checking for SSH. Without credentials, only a private
 * folder. Call `dispose()` when git is done.
 */
export async function credentialPlumbing(
  creds: GitCredentials | undefined,
  tmpRoot = os.tmpdir(),
): Promise<CredentialPlumbing & { dir: string }> {
  const dir = await mkdtemp(path.join(tmpRoot, 'trellis-git-'));
  const env: Record<string, string> = {};
  if (creds?.password !== undefined) {
    const askpass = path.join(dir, 'askpass.sh');
    await writeFile(askpass, ASKPASS, { mode: 0o700 });
    Object.assign(env, {
      GIT_ASKPASS: askpass,
      TRELLIS_GIT_USERNAME: creds.username ?? 'git',
      TRELLIS_GIT_PASSWORD: creds.password,
    });
  }
  if (creds?.identity) {
    if (!creds.knownHosts?.trim())
      throw new TrellisError(
        'TRL_GITOPS_CREDENTIALS',
        'an SSH `identity` needs `known_hosts` too: Trellis never trusts an unknown host key',
        { field: 'data.known_hosts' },
      );
    const key = path.join(dir, 'identity');
    const hosts = path.join(dir, 'known_hosts');
    await writeFile(key, creds.identity, { mode: 0o600 });
    await writeFile(hosts, creds.knownHosts, { mode: 0o600 });
    env.GIT_SSH_COMMAND = `ssh -F /dev/null -i '${key}' -o IdentitiesOnly=yes -o UserKnownHostsFile='${hosts}' -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=15`;
  }
  return { dir, env, dispose: () => rm(dir, { recursive: true, force: true }) };
}
