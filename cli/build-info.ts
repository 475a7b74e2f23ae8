import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../lib/paths.js';
import { KUBERNETES_VERSION } from '../controlplane/versions.js';
import type { BuildInfo } from '../runtime/metrics.js';

/** This build of Trellis: its version (package.json) and the Kubernetes version of its local control plane. */
export function buildInfo(): BuildInfo {
  const pkg = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return { version: pkg.version, kubernetesVersion: KUBERNETES_VERSION };
}
