import { API_VERSION, type GitSync } from '../apis/generated/gitops.trellis.dev-v1alpha1.js';
import { ANNOTATION_REQUESTED_AT, GitSyncController, type GitSyncControllerOptions } from './controller.js';
import { PushReceiver, type PushTarget } from './receiver.js';

export interface GitOpsOptions extends GitSyncControllerOptions {
  /** Serve the push receiver. @default off */
  receiver?: { secret: string; host?: string; port?: number };
}

/** The GitSyncs the receiver may trigger, from the controller's cache. */
export function pushTargets(gitsyncs: GitSync[]): PushTarget[] {
  return gitsyncs
    .filter((gs) => !gs.spec.suspend)
    .map((gs) => ({ namespace: gs.metadata.namespace!, name: gs.metadata.name!, url: gs.spec.url, ...(gs.spec.ref?.branch ? { branch: gs.spec.ref.branch } : {}) }));
}

/**
 * GitOps in one process: the GitSync controller and, when configured, the push receiver. A push
 * sets the `gitops.trellis.dev/requested-at` annotation on each matching GitSync, so whichever
 * replica leads syncs it at once (the receiver may run on every replica).
 *
 * @example
 *   const gitops = new GitOps({ kube, cacheDir: '/var/cache/trellis/git', receiver: { secret, port: 9443 } })
 *   await gitops.start()
 */
export class GitOps {
  readonly controller: GitSyncController;
  readonly receiver: PushReceiver | undefined;

  constructor(private readonly options: GitOpsOptions) {
    this.controller = new GitSyncController(options);
    this.receiver = options.receiver
      ? new PushReceiver({
          ...options.receiver,
          ...(options.logger ? { logger: options.logger } : {}),
          targets: () => pushTargets(this.controller.informer.list()),
          trigger: (targets) => this.requestSync(targets),
        })
      : undefined;
  }

  async start(): Promise<void> {
    await this.controller.start();
    await this.receiver?.start();
  }

  async stop(): Promise<void> {
    await this.receiver?.stop();
    await this.controller.stop();
  }

  /** Asks for an immediate sync of each GitSync (through the API, so the leader sees it). */
  async requestSync(targets: { namespace: string; name: string }[]): Promise<void> {
    const now = new Date().toISOString();
    await Promise.all(targets.map((t) => this.options.kube.patch({ apiVersion: API_VERSION, kind: 'GitSync', ...t }, { metadata: { annotations: { [ANNOTATION_REQUESTED_AT]: now } } })));
  }
}
