import type { KubeObject } from '../../kube/types.js';
import type { InstanceState } from './instance.js';

/** What the runner knows about one pod's instance, for its status. */
export interface InstanceView {
  state: InstanceState;
  ready: boolean;
  restarts: number;
  pid?: number;
  startedAt?: Date;
  lastExit?: { code: number | null; at: Date };
  /** The pod's own address (its pod network's); the node's when absent. */
  podIP?: string;
  /** Why the pod cannot run here at all (then no instance exists). */
  waiting?: { reason: string; message: string };
  /**
   * The pod's other containers (its sidecars, e.g. the queue-proxy), in `spec.containers` order
   * after the first; the pod is Ready only when every container is. @default none
   */
  sidecars?: InstanceView[];
}

const condition = (type: string, status: boolean, now: string, reason?: string) => ({
  type,
  status: status ? 'True' : 'False',
  lastTransitionTime: now,
  ...(reason ? { reason } : {}),
});

/**
 * The pod `status` a kubelet would report for the instance, as a server-side-apply body for the
 * `status` subresource: phase Running, host IP the node's (`host`), pod IP the pod network's (else
 * the node's), Ready when the probe passes, the container's running/waiting/terminated state and
 * restart count.
 */
export function podStatusPatch(pod: KubeObject, view: InstanceView, host: string, now = new Date()): KubeObject {
  const ts = stamp(now);
  const containers = (pod.spec as { containers?: { name: string; image: string }[] })?.containers ?? [];
  const views = [view, ...(view.sidecars ?? [])];
  const statuses = views.map((v, i) => containerStatus(containers[i] ?? { name: 'function', image: '' }, v, ts));
  const ready = views.every((v) => v.ready);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace },
    status: {
      phase: view.waiting ? 'Pending' : 'Running',
      hostIP: host,
      hostIPs: [{ ip: host }],
      ...(view.waiting ? {} : { podIP: view.podIP ?? host, podIPs: [{ ip: view.podIP ?? host }] }),
      startTime: (pod.status as { startTime?: string } | undefined)?.startTime ?? ts,
      conditions: [
        condition('PodReadyToStartContainers', !view.waiting, ts),
        condition('Initialized', true, ts),
        condition('ContainersReady', ready, ts, ready ? undefined : 'ContainersNotReady'),
        condition('Ready', ready, ts, ready ? undefined : 'ContainersNotReady'),
      ],
      containerStatuses: statuses,
    },
  };
}

const stamp = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

/** One container's status, as a kubelet reports it: running/waiting/terminated, restarts, ready. */
function containerStatus(
  container: { name: string; image: string },
  view: InstanceView,
  ts: string,
): Record<string, unknown> {
  const running = view.state === 'running' || view.state === 'ready';
  const started = view.startedAt ? stamp(view.startedAt) : ts;
  let state: Record<string, unknown>;
  if (view.waiting) state = { waiting: view.waiting };
  else if (running || view.state === 'stopping') state = { running: { startedAt: started } };
  else if (view.state === 'backoff')
    state = {
      waiting: {
        reason: 'CrashLoopBackOff',
        message: `the handler exited with code ${view.lastExit?.code ?? 'unknown'}; restarting`,
      },
    };
  else state = { waiting: { reason: 'ContainerCreating' } };
  const lastState = view.lastExit
    ? {
        terminated: {
          exitCode: view.lastExit.code ?? -1,
          reason: view.lastExit.code === 0 ? 'Completed' : 'Error',
          finishedAt: stamp(view.lastExit.at),
          startedAt: started,
        },
      }
    : undefined;
  return {
    name: container.name,
    image: container.image,
    imageID: '',
    ...(view.pid ? { containerID: `local://${view.pid}` } : {}),
    ready: view.ready,
    started: running,
    restartCount: view.restarts,
    state,
    ...(lastState ? { lastState } : {}),
  };
}
