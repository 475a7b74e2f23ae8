import type { KubeClient, KubeLogger } from '../../kube/index.js';
import type { KubeObject } from '../../kube/types.js';
import { LOCAL_RUNTIME_KEY, LOCAL_RUNTIME_VALUE } from '../labels.js';

export interface RunnerNodeOptions {
  kube: KubeClient;
  name: string;
  host: string;
  /** Lease renewal interval. @default 10000 (a kubelet's) */
  heartbeatMs?: number;
  logger?: KubeLogger;
  /** Port of the runner's kubelet-like log server, reported as `daemonEndpoints.kubeletEndpoint.Port`. @default none */
  kubeletPort?: number;
}

const LEASE_SECONDS = 40;
const microTime = (d: Date) => d.toISOString().replace(/Z$/, '000Z');

/**
 * The runner's Node object and its heartbeat. The node carries the local-runtime label and taint,
 * so only pods of local functions land on it, and no `kwok.x-k8s.io/node` annotation, so kwok
 * leaves it alone. Like a kubelet it renews a Lease in `kube-node-lease` and reports Ready, so the
 * node lifecycle controller never marks it (and its pods) unreachable.
 */
export class RunnerNode {
  private timer: NodeJS.Timeout | undefined;
  private beats = 0;

  constructor(readonly options: RunnerNodeOptions) {}

  async start(): Promise<void> {
    const { kube, name } = this.options;
    const labels = {
      [LOCAL_RUNTIME_KEY]: LOCAL_RUNTIME_VALUE,
      'kubernetes.io/hostname': name,
      'kubernetes.io/os': process.platform,
      type: 'trellis-local-runner',
    };
    await kube.apply({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels, annotations: { 'node.alpha.kubernetes.io/ttl': '0' } },
      spec: { taints: [{ key: LOCAL_RUNTIME_KEY, value: LOCAL_RUNTIME_VALUE, effect: 'NoSchedule' }] },
    });
    await this.reportStatus();
    await this.renewLease();
    this.timer = setInterval(() => void this.beat(), this.options.heartbeatMs ?? 10_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async beat(): Promise<void> {
    try {
      await this.renewLease();
      if (++this.beats % 6 === 0) await this.reportStatus();
    } catch (err) {
      this.options.logger?.warn({ node: this.options.name, err: String(err) }, 'node heartbeat failed');
    }
  }

  private renewLease(): Promise<KubeObject> {
    return this.options.kube.apply({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.options.name, namespace: 'kube-node-lease' },
      spec: {
        holderIdentity: this.options.name,
        leaseDurationSeconds: LEASE_SECONDS,
        renewTime: microTime(new Date()),
      },
    });
  }

  private reportStatus(): Promise<KubeObject> {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const cond = (type: string, status: string, reason: string, message: string) => ({
      type,
      status,
      reason,
      message,
      lastHeartbeatTime: now,
      lastTransitionTime: now,
    });
    const resources = { cpu: '64', memory: '256Gi', pods: '500', 'ephemeral-storage': '100Gi' };
    return this.options.kube.applyStatus({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: this.options.name },
      status: {
        capacity: resources,
        allocatable: resources,
        addresses: [
          { type: 'InternalIP', address: this.options.host },
          { type: 'Hostname', address: this.options.name },
        ],
        ...(this.options.kubeletPort
          ? { daemonEndpoints: { kubeletEndpoint: { Port: this.options.kubeletPort } } }
          : {}),
        conditions: [
          cond('Ready', 'True', 'KubeletReady', 'the Trellis local process runner is running'),
          cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'no memory pressure'),
          cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'no disk pressure'),
          cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'no PID pressure'),
        ],
        nodeInfo: {
          kubeletVersion: 'trellis-local-runner',
          kubeProxyVersion: '',
          containerRuntimeVersion: `local-process://${process.version}`,
          operatingSystem: process.platform,
          architecture: process.arch,
          osImage: '',
          kernelVersion: '',
          machineID: '',
          systemUUID: '',
          bootID: '',
        },
      },
    });
  }
}
