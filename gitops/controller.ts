import { API_VERSION, type GitSync } from '../apis/generated/gitops.trellis.dev-v1alpha1.js';
import { ANNOTATION_RECONCILE_REQUESTED, ANNOTATION_SUSPEND } from '../apis/labels.js';
import type { KubeClient } from '../kube/client.js';
import type { KubeObject } from '../kube/types.js';
import { generationChanged, or, predicate, type Controller, type Manager } from '../runtime/index.js';
import { GitOpsMetrics } from './metrics.js';
import { PushReceiver, type PushTarget } from './receiver.js';
import { GitSyncReconciler, type GitSyncReconcilerOptions } from './reconcile.js';
import { gitSyncSuspended } from './status.js';

/** Set (to any new value, e.g. a timestamp) to sync a GitSync now; the push receiver does this. */
export const ANNOTATION_REQUESTED_AT = 'gitops.trellis.dev/requested-at';

type Obj = GitSync & KubeObject;

/** Annotations whose change wakes a GitSync: a sync request (the receiver's, `trellis reconcile`'s) or suspension. */
const WAKING_ANNOTATIONS = [ANNOTATION_REQUESTED_AT, ANNOTATION_RECONCILE_REQUESTED, ANNOTATION_SUSPEND];

/** Passes updates that change a sync-request or suspend annotation (`kubectl annotate ... requested-at=$(date)`). */
export const syncRequested = predicate<Obj>('syncRequested', ({ type, object, old }) => {
  if (type !== 'update' || !old) return true;
  return (
    WAKING_ANNOTATIONS.some((a) => object.metadata.annotations?.[a] !== old.metadata.annotations?.[a]) ||
    'no new sync request'
  );
});

export interface GitOpsOptions extends Omit<GitSyncReconcilerOptions, 'kube' | 'recorder' | 'metrics'> {
  /** Watch one namespace. @default all */
  namespace?: string;
  /** GitSyncs synced at once. @default the manager's concurrency */
  concurrency?: number;
  /** Serve the push receiver (on every replica, leader or not). @default off */
  receiver?: { secret: string; host?: string; port?: number };
}

/** What {@link registerGitOps} registered, for callers that drive or inspect it. */
export interface GitOpsParts {
  controller: Controller<Obj>;
  reconciler: GitSyncReconciler;
  /** Present when `receiver` was configured. */
  receiver: PushReceiver | undefined;
}

/** The GitSyncs the receiver may trigger. */
export function pushTargets(gitsyncs: GitSync[]): PushTarget[] {
  return gitsyncs
    .filter((gs) => !gitSyncSuspended(gs))
    .map((gs) => ({
      namespace: gs.metadata.namespace!,
      name: gs.metadata.name!,
      url: gs.spec.url,
      ...(gs.spec.ref?.branch ? { branch: gs.spec.ref.branch } : {}),
    }));
}

/** Asks for an immediate sync of each GitSync, through the API, so whichever replica leads sees it. */
export async function requestSync(kube: KubeClient, targets: { namespace: string; name: string }[]): Promise<void> {
  const now = new Date().toISOString();
  await Promise.all(
    targets.map((t) =>
      kube.patch(
        { apiVersion: API_VERSION, kind: 'GitSync', namespace: t.namespace, name: t.name },
        { metadata: { annotations: { [ANNOTATION_REQUESTED_AT]: now } } },
      ),
    ),
  );
}

/**
 * Registers GitOps on a manager — what `trellis controller` runs: the GitSync controller (woken by
 * new GitSyncs, spec changes and sync requests, and again every `spec.interval`) and, when
 * configured, the push receiver, which turns a signed push notification into sync requests.
 *
 * @example
 *   const mgr = new Manager({ kube, logger })
 *   const { receiver } = registerGitOps(mgr, { cacheDir: '/var/cache/trellis/git', receiver: { secret, port: 9292 } })
 *   await mgr.start()
 */
export function registerGitOps(mgr: Manager, options: GitOpsOptions): GitOpsParts {
  const ns = options.namespace ? { namespace: options.namespace } : {};
  const gitsyncs = mgr.informer<Obj>({ apiVersion: API_VERSION, kind: 'GitSync', ...ns });
  const metrics = new GitOpsMetrics(mgr.metrics.registry);
  const reconciler = new GitSyncReconciler({
    ...options,
    kube: mgr.kube,
    logger: options.logger ?? mgr.logger,
    recorder: mgr.recorder,
    metrics,
  });
  const controller = mgr.controller<Obj>({
    name: 'gitsync',
    for: { apiVersion: API_VERSION, kind: 'GitSync', ...ns, predicates: [or(generationChanged, syncRequested)] },
    reconciler,
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  });
  let receiver: PushReceiver | undefined;
  if (options.receiver) {
    const r = new PushReceiver({
      ...options.receiver,
      logger: mgr.logger,
      targets: () => pushTargets(gitsyncs.list()),
      trigger: (targets) => requestSync(mgr.kube, targets),
    });
    receiver = r;
    mgr.add({ name: 'gitops-push-receiver', needLeaderElection: false, start: () => r.start(), stop: () => r.stop() });
  }
  return { controller, reconciler, receiver };
}
