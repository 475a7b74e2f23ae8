/** The control plane's binaries, built from our Go modules under controlplane/go (lib/go-build.ts). */
import path from 'node:path';
import { ensureGoBuild, requireGo as requireGoFor, type Binaries, type BinaryOptions } from '../lib/go-build.js';
import { packageRoot } from '../lib/paths.js';
import type { GoTool } from './versions.js';

export type { Binaries, BinaryOptions } from '../lib/go-build.js';

const GO_MISSING =
  'Go is not installed or not on PATH: the local Kubernetes control plane is built from source with Go ≥ 1.26 (https://go.dev/dl/), or set TRELLIS_CONTROL_PLANE_BIN to a folder of prebuilt etcd, kube-apiserver, kube-controller-manager and kube-scheduler.';

/**
 * Returns the tool's binaries, building them from `controlplane/go/<module>` with the local Go
 * toolchain when the cache does not have them yet (see {@link ensureGoBuild}).
 */
export function ensureBinaries(tool: GoTool, options: BinaryOptions): Promise<Binaries> {
  return ensureGoBuild(
    {
      ...tool,
      name: tool.module,
      moduleDir: path.join(packageRoot(), 'controlplane', 'go', tool.module),
      goMissing: GO_MISSING,
      codes: { build: 'TRL_CONTROLPLANE_BUILD', prebuilt: 'TRL_CONTROLPLANE_PREBUILT' },
    },
    options,
  );
}

/** Checks for Go once, with the one sentence a user needs when it is missing. */
export function requireGo(env: NodeJS.ProcessEnv): string {
  return requireGoFor(env, GO_MISSING);
}
