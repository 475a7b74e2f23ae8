import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ControlPlane, ensureBinaries, KUBE_TOOL, KWOK_TOOL, packageRoot, userCacheDir } from '../../controlplane/index.js';
import { KubeClient, type KubeObject } from '../../kube/index.js';

/** What integration tests share: one control plane per test run. */
export interface TestCluster {
  controlPlane: ControlPlane;
  kubeconfig: string;
  /** Admin client (field manager `trellis-test`). */
  kube: KubeClient;
}

let current: TestCluster | undefined;

/** The running test cluster; throws when the global fixture did not start one. */
export function testCluster(): TestCluster {
  if (!current) throw new Error('no test control plane: run through `npm test` (the mocha global fixture starts it)');
  return current;
}

const log = (line: string) => process.stderr.write(`[control plane] ${line}\n`);

/**
 * Builds (or reuses) the binaries, starts the control plane with simulated nodes, installs the
 * chart's CRDs. Reads its settings from the environment given: TRELLIS_CONTROL_PLANE_BIN (prebuilt
 * kube binaries), TRELLIS_KWOK_BIN (prebuilt kwok), TRELLIS_TEST_NODES (simulated nodes, default 2).
 */
export async function startTestCluster(env: NodeJS.ProcessEnv): Promise<TestCluster> {
  const cacheDir = userCacheDir(env);
  const started = Date.now();
  const kube = await ensureBinaries(KUBE_TOOL, { cacheDir, env, onProgress: log, ...(env.TRELLIS_CONTROL_PLANE_BIN ? { prebuiltDir: env.TRELLIS_CONTROL_PLANE_BIN } : {}) });
  const kwok = await ensureBinaries(KWOK_TOOL, { cacheDir, env, onProgress: log, ...(env.TRELLIS_KWOK_BIN ? { prebuiltDir: env.TRELLIS_KWOK_BIN } : {}) });
  const controlPlane = new ControlPlane({ binaries: { ...kube, ...kwok }, nodePath: process.execPath, nodes: Number(env.TRELLIS_TEST_NODES ?? 2), onProgress: log });
  await controlPlane.start();
  const client = await KubeClient.connect({ kubeconfig: controlPlane.kubeconfigPath, fieldManager: 'trellis-test' });
  await installCrds(client);
  log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s — kubeconfig ${controlPlane.kubeconfigPath}`);
  current = { controlPlane, kubeconfig: controlPlane.kubeconfigPath, kube: client };
  return current;
}

export async function stopTestCluster(): Promise<void> {
  const cluster = current;
  current = undefined;
  cluster?.kube.close();
  await cluster?.controlPlane.stop();
}

/** Applies every CRD of the chart and waits until each is Established. */
export async function installCrds(kube: KubeClient): Promise<string[]> {
  const dir = path.join(packageRoot(), 'charts', 'trellis', 'crds');
  const names: string[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(await readFile(path.join(dir, file), 'utf8'))) {
      const crd = doc.toJS() as KubeObject | null;
      if (!crd) continue;
      await kube.apply(crd);
      names.push(crd.metadata.name!);
    }
  }
  for (const name of names) await waitForEstablished(kube, name);
  kube.mapper.invalidate();
  return names;
}

/** Waits until the CRD's Established condition is True. */
export async function waitForEstablished(kube: KubeClient, name: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const crd = await kube.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name });
    if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`CRD ${name} was not Established within 30 s`);
}
