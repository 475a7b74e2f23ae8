import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { ensureBinaries, HELM_TOOL, packageRoot, userCacheDir } from '../../controlplane/index.js';
import type { KubeObject } from '../../kube/index.js';

const exec = promisify(execFile);

/** Where the test fixture installs the chart's identity, and as whom controllers run in tests. */
export const CHART_RELEASE = 'trellis';
export const CHART_NAMESPACE = 'trellis-system';
export const CHART_SERVICE_ACCOUNT = 'trellis';
/** The admission webhook's own (read-only) ServiceAccount in that release. */
export const CHART_WEBHOOK_SERVICE_ACCOUNT = 'trellis-webhook';
/** The activator's own ServiceAccount in that release (activator and autoscaler). */
export const CHART_ACTIVATOR_SERVICE_ACCOUNT = 'trellis-activator';
/** The dashboard's ServiceAccount (chart `dashboard.enabled`; test/integration/dashboard-api.test.ts installs it). */
export const CHART_DASHBOARD_SERVICE_ACCOUNT = 'trellis-dashboard';

/** The Helm binary (built from its Go module and cached like the control plane). */
export async function helmBinary(env: NodeJS.ProcessEnv, onProgress?: (line: string) => void): Promise<string> {
  const bins = await ensureBinaries(HELM_TOOL, {
    cacheDir: userCacheDir(env),
    env,
    ...(onProgress ? { onProgress } : {}),
    ...(env.TRELLIS_HELM_BIN ? { prebuiltDir: env.TRELLIS_HELM_BIN } : {}),
  });
  return bins.helm!;
}

/** Runs helm with an isolated home (no user repositories or plugins leak in). */
export async function helm(binary: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const home = path.join(packageRoot(), 'node_modules', '.cache', 'helm-home');
  return exec(binary, args, {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      HELM_CACHE_HOME: path.join(home, 'cache'),
      HELM_CONFIG_HOME: path.join(home, 'config'),
      HELM_DATA_HOME: path.join(home, 'data'),
    },
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** `helm template` of charts/trellis with the given `--set` values, parsed into objects. */
export async function renderChart(
  binary: string,
  values: Record<string, string | number | boolean> = {},
): Promise<KubeObject[]> {
  const sets = Object.entries(values).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
  const { stdout } = await helm(binary, [
    'template',
    CHART_RELEASE,
    path.join(packageRoot(), 'charts', 'trellis'),
    '--namespace',
    CHART_NAMESPACE,
    ...sets,
  ]);
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => !!o);
}
