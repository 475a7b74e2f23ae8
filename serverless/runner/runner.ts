import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Informer, isConflict, isNotFound, type KubeClient } from '../../kube/index.js';
import type { KubeObject } from '../../kube/types.js';
import { messageOf } from '../../lib/errors.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import { Reaper } from '../../lib/process.js';
import { LABEL_SLICE_MANAGED_BY, LOCAL_RUNNER_MANAGER } from '../labels.js';
import { containerRun, readinessOf, type Container, type ContainerRun } from './containers.js';
import { endpointSliceFor, localAddress, serviceSelects, sliceName } from './endpoint-slice.js';
import { LocalInstance } from './instance.js';
import { writeMeterPreload } from '../meter/instance-meter.js';
import { LogServer } from './log-server.js';
import type { PodAttachment, PodNetwork } from './network.js';
import { RunnerNode } from './node.js';
import { podStatusPatch, type InstanceView } from './pod-status.js';

export interface LocalRunnerOptions {
  /** Writes as field manager `trellis-local-runner`. */
  kube: KubeClient;
  /** Name of the runner's Node. @default 'trellis-local-runner' */
  nodeName?: string;
  /** Relative `workingDir`s of handlers are resolved against this folder. @default the current directory */
  root?: string;
  /** Handler output goes to `<logDir>/<namespace>_<pod>.log`. @default a folder under the OS temp dir */
  logDir?: string;
  /** Environment every handler starts with (its container env and `PORT` are added). @default PATH with this Node.js first */
  env?: Record<string, string>;
  /**
   * Preload the instance meter into Node handlers and publish its port in their EndpointSlices
   * (docs/adr/0017-instance-meter.md): what lets a warm Function's Service skip the activators.
   * @default true
   */
  meter?: boolean;
  /**
   * Gives each pod a network of its own (a CNI plugin's part): its instance then listens on the
   * pod's address at its container port, the pod reports that address as `status.podIP`, and a
   * Service that selects the pods gets its EndpointSlices from Kubernetes' own controller (how
   * test/integration/serverless-cluster-path.test.ts proves the cluster's data path). Such
   * instances run without the meter (that controller publishes only the Service's ports), and every
   * container of the pod runs, each a process in the pod's network (so they share its 127.0.0.1, as
   * a pod's containers do; a Function's queue-proxy sidecar reaches the function there).
   * @default none: the first container of each pod on 127.0.0.1, at a port the runner picks
   */
  network?: PodNetwork;
  /**
   * What the runner runs for an image when a container has no `command` (the image's entrypoint;
   * its `args` follow), e.g. the Trellis image → `['node', 'bin/trellis.js']` for the queue-proxy.
   * `node` as the first word is the Node.js binary the runner runs on. @default none
   */
  entrypoints?: Record<string, string[]>;
  logger?: Logger;
}

interface PodEntry {
  pod: KubeObject;
  /** The first container's process (the function). */
  instance?: LocalInstance;
  /** The other containers' processes, with a pod network (e.g. the queue-proxy). */
  sidecars: LocalInstance[];
  /** The pod's own network, when the runner has a {@link PodNetwork}. */
  attachment?: PodAttachment;
  /** Until the pod network has answered (then the instance starts, unless the pod is going). */
  attaching?: Promise<void>;
  waiting?: { reason: string; message: string };
  terminating: boolean;
  /** Service name → published endpoint (JSON), to publish only changes. */
  published: Map<string, string>;
  statusPublished?: string;
  busy: boolean;
  dirty: boolean;
}

const FIELD_MANAGER = 'trellis-local-runner';

/**
 * Plays kubelet and endpoints controller for functions on a laptop or in tests: it registers a
 * Node of its own, runs each pod scheduled there as a local process on its own 127.0.0.1 port (or
 * on its own address, given a {@link PodNetwork}),
 * reports pod status as a kubelet would, publishes one EndpointSlice per instance for the Services
 * that select the pod through {@link ANNOTATION_ENDPOINTS_SELECTOR}, and stops processes (SIGTERM,
 * grace, SIGKILL) when their pods are deleted. The activator and autoscaler cannot tell it from a
 * cluster.
 *
 * @example
 *   const runner = new LocalRunner({ kube, root: process.cwd() })
 *   await runner.start()
 */
export class LocalRunner {
  readonly nodeName: string;
  private readonly kube: KubeClient;
  private readonly host: string;
  private readonly root: string;
  private readonly logDir: string;
  private readonly env: Record<string, string>;
  private readonly logger: Logger;
  private readonly entries = new Map<string, PodEntry>();
  private readonly node: RunnerNode;
  private pods: Informer | undefined;
  private services: Informer | undefined;
  private reaper: Reaper | undefined;
  private meterPreload: string | undefined;
  private readonly logServer: LogServer;
  private stopped = false;

  constructor(private readonly options: LocalRunnerOptions) {
    this.kube = options.kube.withFieldManager(FIELD_MANAGER);
    this.nodeName = options.nodeName ?? 'trellis-local-runner';
    this.host = '127.0.0.1';
    this.root = path.resolve(options.root ?? process.cwd());
    this.logDir = options.logDir ?? path.join(os.tmpdir(), `trellis-local-runner-${this.nodeName}`);
    this.env = options.env ?? { PATH: `${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin` };
    this.logger = options.logger ?? silentLogger;
    this.node = new RunnerNode({ kube: this.kube, name: this.nodeName, host: this.host, logger: this.logger });
    this.logServer = new LogServer({
      host: this.host,
      logFile: (namespace, pod) =>
        [...this.entries.values()].some((e) => e.pod.metadata.namespace === namespace && e.pod.metadata.name === pod)
          ? this.logFileOf(namespace, pod)
          : undefined,
    });
  }

  /** Where a pod's instance writes its output (stdout and stderr, as is). */
  private logFileOf(namespace: string, pod: string): string {
    return path.join(this.logDir, `${namespace}_${pod}.log`);
  }

  /** Registers the node, then runs what is scheduled on it; resolves once caught up. */
  async start(): Promise<void> {
    mkdirSync(this.logDir, { recursive: true });
    if (this.options.meter !== false) this.meterPreload = writeMeterPreload(this.logDir);
    this.reaper = new Reaper(process.execPath);
    // pods/log reaches the instances' output through the API server, as a kubelet's (kubectl logs works).
    this.node.options.kubeletPort = await this.logServer.start();
    await this.node.start();
    this.services = new Informer(this.kube, { apiVersion: 'v1', kind: 'Service', resyncMs: 0, logger: this.logger });
    const resyncNamespace = (svc: KubeObject) => {
      for (const entry of this.entries.values())
        if (entry.pod.metadata.namespace === svc.metadata.namespace) this.schedule(entry);
    };
    this.services.on({ add: resyncNamespace, update: resyncNamespace, delete: resyncNamespace });
    await this.services.start();
    this.pods = new Informer(this.kube, {
      apiVersion: 'v1',
      kind: 'Pod',
      fieldSelector: `spec.nodeName=${this.nodeName}`,
      resyncMs: 0,
      logger: this.logger,
    });
    this.pods.on({ add: (p) => this.onPod(p), update: (p) => this.onPod(p), delete: (p) => this.onPodGone(p) });
    await this.pods.start();
    await this.removeStaleSlices();
    await this.kube.patch({ apiVersion: 'v1', kind: 'Node', name: this.nodeName }, { spec: { unschedulable: false } });
  }

  /**
   * Stops every instance, withdraws their endpoints and cordons the node (its pods stay bound to
   * it and run again when a runner with the same node name starts).
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.kube
      .patch({ apiVersion: 'v1', kind: 'Node', name: this.nodeName }, { spec: { unschedulable: true } })
      .catch(() => undefined);
    await this.pods?.stop();
    await this.services?.stop();
    this.node.stop();
    await Promise.all(
      [...this.entries.values()].map(async (entry) => {
        entry.terminating = true;
        await entry.attaching;
        await this.stopInstances(entry, 5_000);
        await this.deleteSlices(entry, [...entry.published.keys()]).catch(() => undefined);
        await this.detach(entry);
      }),
    );
    this.entries.clear();
    await this.logServer.stop();
    this.reaper?.close();
  }

  /** Instances by pod `namespace/name`, for tests and the CLI's status line. */
  instances(): { pod: string; port: number; ready: boolean; pid?: number }[] {
    return [...this.entries.values()]
      .filter((e) => e.instance)
      .map((e) => ({
        pod: `${e.pod.metadata.namespace}/${e.pod.metadata.name}`,
        port: e.instance!.port,
        ready: e.instance!.ready,
        ...(e.instance!.pid ? { pid: e.instance!.pid } : {}),
      }));
  }

  private onPod(pod: KubeObject): void {
    if (this.stopped) return;
    const uid = pod.metadata.uid!;
    let entry = this.entries.get(uid);
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    if (!entry) {
      if (pod.metadata.deletionTimestamp || phase === 'Succeeded' || phase === 'Failed') {
        void this.finishDeletion(pod);
        return;
      }
      entry = { pod, sidecars: [], terminating: false, published: new Map(), busy: false, dirty: false };
      this.entries.set(uid, entry);
      this.launch(entry);
    }
    entry.pod = pod;
    if (pod.metadata.deletionTimestamp && !entry.terminating) void this.terminate(entry, true);
    else this.schedule(entry);
  }

  private onPodGone(pod: KubeObject): void {
    const entry = this.entries.get(pod.metadata.uid!);
    if (entry && !entry.terminating) void this.terminate(entry, false);
  }

  private launch(entry: PodEntry): void {
    const pod = entry.pod;
    const id = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const network = this.options.network;
    const containers = (pod.spec as { containers?: Container[] }).containers ?? [];
    // Without a pod network there is no 127.0.0.1 of the pod to share: the first container alone.
    const runs: ContainerRun[] = [];
    const ctx = { root: this.root, env: this.env, entrypoints: this.options.entrypoints ?? {} };
    for (const container of network ? containers : containers.slice(0, 1)) {
      const found = containerRun(container, ctx);
      if ('waiting' in found) {
        entry.waiting = found.waiting;
        break;
      }
      runs.push(found.run);
    }
    if (!entry.waiting && runs.length === 0)
      entry.waiting = { reason: 'NoHandlerCommand', message: 'the pod has no container to run' };
    if (entry.waiting) {
      this.logger.warn({ pod: id, reason: entry.waiting.reason }, entry.waiting.message);
      return;
    }
    if (!network) {
      this.startInstances(entry, runs);
      return;
    }
    entry.attaching = network
      .attach({ namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid: pod.metadata.uid! })
      .then(
        (attachment) => {
          entry.attachment = attachment;
          if (!entry.terminating && !this.stopped) this.startInstances(entry, runs);
        },
        (err: unknown) => {
          entry.waiting = { reason: 'NetworkNotReady', message: `the pod network failed: ${messageOf(err)}` };
          this.logger.warn({ pod: id, reason: entry.waiting.reason }, entry.waiting.message);
          this.schedule(entry);
        },
      );
  }

  private startInstances(entry: PodEntry, runs: ContainerRun[]): void {
    const pod = entry.pod;
    const id = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const attached = entry.attachment;
    const instances = runs.map(({ container, command, cwd, env }, i) => {
      const probe = readinessOf(container);
      return new LocalInstance({
        id: i === 0 ? id : `${id}/${container.name}`,
        command,
        cwd,
        env,
        host: attached?.address ?? this.host,
        ...(attached
          ? {
              // The pod's own address: its container port, as in a cluster (the Service's targetPort names
              // it), listening on every interface of the pod (its sidecars call it on 127.0.0.1).
              port: container.ports?.[0]?.containerPort ?? (Number(env.PORT) || 8080),
              listenHost: '0.0.0.0',
              launcher: attached.launcher,
            }
          : {}),
        ...(probe.path ? { probePath: probe.path } : {}),
        ...(attached && probe.port ? { probePort: probe.port } : {}),
        logFile: this.logFileOf(pod.metadata.namespace!, pod.metadata.name!),
        ...(this.meterPreload && !attached ? { meterPreload: this.meterPreload } : {}),
        ...(this.reaper ? { reaper: this.reaper } : {}),
        onChange: () => this.schedule(entry),
      });
    });
    [entry.instance] = instances;
    entry.sidecars = instances.slice(1);
    for (const instance of instances) instance.start();
    this.logger.debug({ pod: id, ...(attached ? { address: attached.address } : {}) }, 'instance starting');
  }

  /** Stops every container's process at once (SIGTERM, `graceMs`, SIGKILL). */
  private async stopInstances(entry: PodEntry, graceMs: number): Promise<void> {
    await Promise.all([entry.instance, ...entry.sidecars].map((i) => i?.stop(graceMs)));
  }

  private async detach(entry: PodEntry): Promise<void> {
    if (!entry.attachment || !this.options.network) return;
    entry.attachment = undefined;
    await this.options.network
      .detach(entry.pod.metadata.uid!)
      .catch((err: unknown) =>
        this.logger.warn({ pod: entry.pod.metadata.name, err: messageOf(err) }, 'taking the pod network down failed'),
      );
  }

  /** Publishes the entry's state; coalesces changes that arrive while a publish is running. */
  private schedule(entry: PodEntry): void {
    if (entry.busy) {
      entry.dirty = true;
      return;
    }
    entry.busy = true;
    void (async () => {
      do {
        entry.dirty = false;
        try {
          await this.publish(entry);
        } catch (err) {
          if (!isNotFound(err) && !this.stopped)
            this.logger.warn({ pod: entry.pod.metadata.name, err: String(err) }, 'publishing pod state failed');
        }
      } while (entry.dirty && !this.stopped);
      entry.busy = false;
    })();
  }

  private async publish(entry: PodEntry): Promise<void> {
    const instance = entry.instance;
    const view: InstanceView = instance
      ? {
          ...this.viewOf(instance, entry.terminating),
          ...(entry.attachment ? { podIP: entry.attachment.address } : {}),
          ...(entry.sidecars.length ? { sidecars: entry.sidecars.map((s) => this.viewOf(s, entry.terminating)) } : {}),
        }
      : { state: 'starting', ready: false, restarts: 0, ...(entry.waiting ? { waiting: entry.waiting } : {}) };
    const work: Promise<unknown>[] = [this.publishSlices(entry)];
    const statusKey = JSON.stringify([
      view.state,
      view.ready,
      view.restarts,
      view.pid,
      view.waiting?.reason,
      view.podIP,
      view.sidecars?.map((s) => [s.state, s.ready, s.restarts, s.pid]),
    ]);
    if (statusKey !== entry.statusPublished && !entry.terminating) {
      work.push(
        this.kube
          .applyStatus(podStatusPatch(entry.pod, view, this.host))
          .then(() => (entry.statusPublished = statusKey)),
      );
    }
    await Promise.all(work);
  }

  private viewOf(instance: LocalInstance, terminating: boolean): InstanceView {
    return {
      state: instance.state,
      ready: instance.ready && !terminating,
      restarts: instance.restarts,
      ...(instance.pid ? { pid: instance.pid } : {}),
      ...(instance.startedAt ? { startedAt: instance.startedAt } : {}),
      ...(instance.lastExit ? { lastExit: instance.lastExit } : {}),
    };
  }

  private async publishSlices(entry: PodEntry): Promise<void> {
    const instance = entry.instance;
    const wanted = new Map<string, KubeObject>();
    const running =
      instance &&
      (instance.state === 'running' ||
        instance.state === 'ready' ||
        (entry.terminating && instance.state === 'stopping'));
    if (running && instance.port) {
      for (const svc of this.services?.list() ?? []) {
        if (svc.metadata.namespace !== entry.pod.metadata.namespace || !serviceSelects(svc, entry.pod.metadata.labels))
          continue;
        wanted.set(
          svc.metadata.name!,
          endpointSliceFor(svc, entry.pod, {
            address: entry.attachment?.address ?? localAddress(this.nodeName),
            port: instance.port,
            ...(instance.meterPort ? { meterPort: instance.meterPort } : {}),
            ready: instance.ready,
            terminating: entry.terminating,
            nodeName: this.nodeName,
          }),
        );
      }
    }
    const applies: Promise<unknown>[] = [];
    for (const [svc, slice] of wanted) {
      const key = JSON.stringify([slice.endpoints, slice.ports]);
      if (entry.published.get(svc) === key) continue;
      applies.push(this.kube.apply(slice).then(() => entry.published.set(svc, key)));
    }
    await Promise.all(applies);
    await this.deleteSlices(
      entry,
      [...entry.published.keys()].filter((svc) => !wanted.has(svc)),
    );
  }

  private async deleteSlices(entry: PodEntry, services: string[]): Promise<void> {
    await Promise.all(
      services.map(async (svc) => {
        await this.kube.delete({
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          namespace: entry.pod.metadata.namespace!,
          name: sliceName(svc, entry.pod.metadata.name!),
        });
        entry.published.delete(svc);
      }),
    );
  }

  /**
   * Like a kubelet: mark the endpoints terminating, SIGTERM, wait the grace period, SIGKILL, remove
   * the endpoints, and (when the pod object still exists) finish its deletion.
   */
  private async terminate(entry: PodEntry, podExists: boolean): Promise<void> {
    entry.terminating = true;
    const pod = entry.pod;
    const graceSeconds =
      (pod.metadata.deletionGracePeriodSeconds as number | undefined) ??
      (pod.spec as { terminationGracePeriodSeconds?: number }).terminationGracePeriodSeconds ??
      30;
    try {
      await entry.attaching;
      if (podExists) await this.publishSlices(entry).catch(() => undefined);
      await this.stopInstances(entry, podExists ? graceSeconds * 1000 : 2_000);
      await this.deleteSlices(entry, [...entry.published.keys()]).catch((err) =>
        this.logger.warn({ pod: pod.metadata.name, err: String(err) }, 'removing endpoints failed'),
      );
      await this.detach(entry);
      if (podExists) await this.finishDeletion(pod);
    } finally {
      this.entries.delete(pod.metadata.uid!);
    }
  }

  private async finishDeletion(pod: KubeObject): Promise<void> {
    try {
      await this.kube.delete(
        { apiVersion: 'v1', kind: 'Pod', namespace: pod.metadata.namespace!, name: pod.metadata.name! },
        { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid! } },
      );
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err))
        this.logger.warn({ pod: pod.metadata.name, err: String(err) }, 'finishing pod deletion failed');
    }
  }

  /** Slices a previous run of this runner published for instances that no longer exist. */
  private async removeStaleSlices(): Promise<void> {
    const slices = await this.kube.list('discovery.k8s.io/v1', 'EndpointSlice', {
      labelSelector: `${LABEL_SLICE_MANAGED_BY}=${LOCAL_RUNNER_MANAGER}`,
    });
    for (const slice of slices.items) {
      const eps = (slice.endpoints as { nodeName?: string; targetRef?: { uid?: string } }[] | undefined) ?? [];
      if (!eps.some((e) => e.nodeName === this.nodeName)) continue;
      if (eps.some((e) => e.targetRef?.uid && this.entries.get(e.targetRef.uid)?.instance)) continue;
      await this.kube.delete({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        namespace: slice.metadata.namespace!,
        name: slice.metadata.name!,
      });
    }
  }
}
