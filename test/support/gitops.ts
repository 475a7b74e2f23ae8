import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { API_VERSION, type GitSync } from '../../apis/generated/gitops.trellis.dev-v1alpha1.js';
import { GITSYNC_FINALIZER } from '../../gitops/finalizer.js';
import { registerGitOps, type GitOpsOptions } from '../../gitops/index.js';
import { KubeClient, type KubeObject } from '../../kube/index.js';
import { createLogger } from '../../lib/log.js';
import { Manager } from '../../runtime/index.js';
import { testCluster } from './cluster.js';
import { eventually } from './namespace.js';

/**
 * Removes the GitSync finalizer from every GitSync in a namespace, so deleting the namespace after
 * the controller stopped does not leave it terminating (what `kubectl patch ... finalizers` does
 * for a person whose controller is gone). Call it after stopping the controller, before the
 * namespace goes (e.g. from `useNamespace().beforeDelete`).
 */
export async function releaseGitSyncs(namespace: string): Promise<void> {
  const { kube } = testCluster();
  const { items } = await kube.list(API_VERSION, 'GitSync', { namespace });
  for (const gs of items) {
    if (!gs.metadata.finalizers?.includes(GITSYNC_FINALIZER)) continue;
    const finalizers = gs.metadata.finalizers.filter((f) => f !== GITSYNC_FINALIZER);
    await kube
      .patch(
        { apiVersion: API_VERSION, kind: 'GitSync', name: gs.metadata.name!, namespace },
        { metadata: { finalizers: finalizers.length ? finalizers : null } },
      )
      .catch(() => undefined);
  }
}

export interface GitOpsHandle {
  manager: Manager | undefined;
  /** Everything the controller logged (debug level) in this test, across restarts. */
  logs: () => string;
  /** Stops the controller (as a crash or rollout would), keeping its GitSyncs' finalizers. */
  stop: () => Promise<void>;
  /** Starts a fresh controller (new manager, client and informers; same cache folder). */
  start: () => Promise<void>;
  /** `controller_runtime_reconcile_total` of the current controller's gitsync controller for one result. */
  reconciles: (result: 'success' | 'requeue_after' | 'error') => Promise<number>;
}

/**
 * Runs the GitSync controller (as the chart's ServiceAccount, watching the test's namespace) for
 * each test of the enclosing `describe`. Before the namespace is deleted, it stops and its
 * GitSyncs are released (their finalizer removed), so no namespace is left terminating.
 *
 * @example
 *   const ns = useNamespace('gitops')
 *   const gitops = useGitOpsController(ns, { defaultServiceAccount: 'gitops-default' })
 */
export function useGitOpsController(
  ns: { name: string; beforeDelete: (() => Promise<void>)[] },
  options: Omit<GitOpsOptions, 'cacheDir' | 'namespace'> = {},
): GitOpsHandle {
  let text = '';
  let kube: KubeClient | undefined;
  let cacheDir = '';
  const stop = async () => {
    await handle.manager?.stop();
    kube?.close();
    handle.manager = undefined;
    kube = undefined;
  };
  const start = async () => {
    await stop();
    const stream = new PassThrough();
    stream.on('data', (d: Buffer) => (text += d.toString()));
    kube = await KubeClient.connect({ kubeconfig: testCluster().controllerKubeconfig, fieldManager: 'trellis' });
    handle.manager = new Manager({
      kube,
      logger: createLogger({ level: 'debug', destination: stream }),
      concurrency: 2,
      gracefulShutdownMs: 5000,
    });
    registerGitOps(handle.manager, { ...options, cacheDir, namespace: ns.name });
    await handle.manager.start();
  };
  const reconciles = async (result: string) => {
    const metric = await handle.manager?.metrics.registry.getSingleMetric('controller_runtime_reconcile_total')?.get();
    return metric?.values.find((v) => v.labels.controller === 'gitsync' && v.labels.result === result)?.value ?? 0;
  };
  const handle: GitOpsHandle = { manager: undefined, logs: () => text, stop, start, reconciles };
  beforeEach(async () => {
    text = '';
    cacheDir = await mkdtemp(path.join(os.tmpdir(), 'trellis-gitops-'));
    await start();
  });
  ns.beforeDelete.push(async () => {
    await stop();
    await releaseGitSyncs(ns.name);
    await rm(cacheDir, { recursive: true, force: true });
  });
  return handle;
}

type GitSyncObject = GitSync & KubeObject;

/** Reads a GitSync with the admin client; `undefined` once it is gone. */
export const getGitSync = (namespace: string, name = 'apps'): Promise<GitSyncObject | undefined> =>
  testCluster().kube.getOrNull<GitSyncObject>({ apiVersion: API_VERSION, kind: 'GitSync', name, namespace });

/** Waits until the GitSync's newest sync result is `result` for `commit`. */
export function syncedTo(namespace: string, commit: string, result = 'Applied', name = 'apps'): Promise<GitSyncObject> {
  return eventually(
    async () => {
      const gs = await getGitSync(namespace, name);
      return gs?.status?.history?.[0]?.commit === commit && gs.status.history[0].result === result && gs;
    },
    { what: `GitSync ${name} to report ${result} for ${commit.slice(0, 12)}`, timeoutMs: 60_000 },
  );
}

/** Waits for an Event about the GitSync with this reason (and returns its message). */
export async function eventAbout(namespace: string, reason: string, name = 'apps'): Promise<string> {
  const event = await eventually(
    async () =>
      (
        await testCluster().kube.list('v1', 'Event', { namespace, fieldSelector: `involvedObject.name=${name}` })
      ).items.find((e) => e.reason === reason),
    { what: `an Event ${reason} about GitSync ${name}` },
  );
  return String(event.message ?? '');
}
