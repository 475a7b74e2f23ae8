import { TrellisError } from '../lib/errors.js';

const ALLOWED = new Set(['file:', 'http:', 'https:', 'ssh:']);

/**
 * Checks a repository URL: only `file://`, `http(s)://` and `ssh://`, and no password in it
 * (credentials come from the GitSync's Secret, so they never show up in the spec or status).
 * Returns the URL unchanged. Throws `TRL_GITOPS_URL` naming the problem.
 *
 * @example checkRepositoryUrl('https://git.example.com/team/apps.git')
 */
export function checkRepositoryUrl(raw: string, where: { object?: string; field?: string } = {}): string {
  const fail = (reason: string) =>
    new TrellisError('TRL_GITOPS_URL', reason, { object: where.object, field: where.field ?? 'spec.url' });
  if (/^[a-z][a-z0-9+.-]*::/i.test(raw))
    throw fail(`"${raw.split('::')[0]}::" transports are not allowed; use https://, http://, ssh:// or file://`);
  if (/^[^/:]+@[^/:]+:/.test(raw)) throw fail(`scp-like address "${raw}": write it as ssh://${raw.replace(':', '/')}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw fail(`"${raw}" is not a URL; use https://, http://, ssh:// or file://`);
  }
  if (!ALLOWED.has(url.protocol))
    throw fail(`scheme "${url.protocol.replace(/:$/, '')}" is not allowed; use https://, http://, ssh:// or file://`);
  if (url.password)
    throw fail('the URL contains a password: put credentials in a Secret and name it in spec.secretRef');
  if (url.protocol !== 'file:' && !url.hostname) throw fail(`"${raw}" names no host`);
  if (url.protocol === 'file:' && url.hostname)
    throw fail(`file URLs take an absolute path (file:///srv/repo), not a host`);
  return raw;
}

/**
 * A repository's identity for matching push notifications: host and path, lower-case, without
 * scheme, user, port, `.git` or trailing slashes. `https://github.com/Org/App.git` and
 * `ssh://git@github.com/org/app` are the same repository.
 */
export function repositoryKey(raw: string): string {
  let host = '';
  let pathname = raw;
  try {
    const url = new URL(raw);
    host = url.hostname;
    pathname = decodeURIComponent(url.pathname);
  } catch {
    const scp = /^(?:[^@]+@)?([^:/]+):(.*)$/.exec(raw);
    if (scp) [host, pathname] = [scp[1]!, scp[2]!];
  }
  pathname = pathname
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
    .replace(/^\/+/, '');
  return `${host}/${pathname}`.toLowerCase();
}
