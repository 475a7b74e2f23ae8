import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (the folder holding package.json), from source or from dist/. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the trellis package root');
    dir = parent;
  }
  return dir;
}

/** The user's cache directory (XDG_CACHE_HOME or ~/.cache), as given by the caller's environment. */
export function userCacheDir(env: NodeJS.ProcessEnv): string {
  return env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
}
