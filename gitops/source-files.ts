import path from 'node:path';
import { TrellisError } from '../lib/errors.js';

/** One manifest file read from a source, by its path relative to the repository root. */
export interface SourceFile {
  path: string;
  content: string;
}

export interface ReadLimits {
  /** @default 5000 */
  maxFiles?: number;
  /** Total bytes of manifests. @default 32 MiB */
  maxBytes?: number;
}

export const DEFAULT_LIMITS: Required<ReadLimits> = { maxFiles: 5000, maxBytes: 32 * 1024 * 1024 };

/** Files that are manifests: `.yaml`, `.yml`, `.json`, outside hidden folders (`.github/`, ...). */
export function isManifestPath(rel: string): boolean {
  return /\.(ya?ml|json)$/i.test(rel) && !rel.split('/').some((part) => part.startsWith('.'));
}

/**
 * Normalises the folder a sync reads (`spec.path`) to a repository-relative POSIX path (`''` for
 * the root). Absolute paths and paths leaving the repository fail with `TRL_GITOPS_PATH_ESCAPE`.
 *
 * @example normalizeSyncPath('./apps/../apps/prod/') // 'apps/prod'
 */
export function normalizeSyncPath(raw: string | undefined): string {
  const value = raw ?? '.';
  if (path.posix.isAbsolute(value) || /^[a-z]:[\\/]/i.test(value))
    throw new TrellisError(
      'TRL_GITOPS_PATH_ESCAPE',
      `"${value}" is absolute: give a folder relative to the repository root`,
      { field: 'spec.path' },
    );
  const normal = path.posix.normalize(value.replace(/\\/g, '/')).replace(/\/+$/, '');
  if (normal === '..' || normal.startsWith('../'))
    throw new TrellisError('TRL_GITOPS_PATH_ESCAPE', `"${value}" leaves the repository`, { field: 'spec.path' });
  return normal === '.' ? '' : normal;
}

/** Whether `rel` (normalised, repository-relative) is `dir` or inside it. */
export function isWithin(rel: string, dir: string): boolean {
  return dir === '' || rel === dir || rel.startsWith(`${dir}/`);
}

/** Throws `TRL_GITOPS_TOO_LARGE` when the files exceed the limits. */
export function checkLimits(count: number, bytes: number, limits: ReadLimits = {}): void {
  const { maxFiles, maxBytes } = { ...DEFAULT_LIMITS, ...limits };
  if (count > maxFiles)
    throw new TrellisError('TRL_GITOPS_TOO_LARGE', `${count} manifest files exceed the limit of ${maxFiles}`, {
      field: 'spec.path',
    });
  if (bytes > maxBytes)
    throw new TrellisError('TRL_GITOPS_TOO_LARGE', `${bytes} bytes of manifests exceed the limit of ${maxBytes}`, {
      field: 'spec.path',
    });
}
