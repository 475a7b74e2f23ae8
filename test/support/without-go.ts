/**
 * An environment in which Go is not installed, for tests of what users without Go get: PATH with
 * every folder that holds `go` replaced by a copy of it (symbolic links) without `go` and `gofmt`,
 * so node, git, kubectl and the rest stay where they were. The build cache is a fresh folder (no
 * evaluator built earlier) and TRELLIS_CUE_BIN is unset. `cleanup()` removes the folders.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function withoutGo(env: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; cleanup(): void } {
  const root = mkdtempSync(path.join(tmpdir(), 'trellis-no-go-'));
  const dirs = (env.PATH ?? '').split(path.delimiter).map((dir, i) => {
    if (!dir || !existsSync(path.join(dir, 'go'))) return dir;
    const shadow = path.join(root, `path-${i}`);
    mkdirSync(shadow);
    for (const name of readdirSync(dir))
      if (name !== 'go' && name !== 'gofmt') symlinkSync(path.join(dir, name), path.join(shadow, name));
    return shadow;
  });
  const cache = path.join(root, 'cache');
  mkdirSync(cache);
  // Empty rather than absent: callers merge this over process.env.
  return {
    env: {
      ...env,
      PATH: dirs.join(path.delimiter),
      XDG_CACHE_HOME: cache,
      TRELLIS_CUE_BIN: '',
      TRELLIS_CUE_ENGINE: '',
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
