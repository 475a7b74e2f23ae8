import { isAlreadyExists, isNotFound, type Informer, type KubeClient } from '../../kube/index.js';
import type { KubeObject } from '../../kube/types.js';
import { messageOf } from '../../lib/errors.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import type { EventRecorder } from '../../runtime/index.js';
import { functionKey } from '../function/config.js';
import type { FunctionKind } from '../function/kinds.js';
import { servedTargets, trafficRoutes } from '../function/traffic.js';
import { LABEL_SERVICE_NAME, LABEL_SLICE_MANAGED_BY } from '../labels.js';
import {
  decideMode,
  proxySlices,
  PUBLIC_ENDPOINTS_MANAGER,
  sameSlice,
  serveSlices,
  type Capacity,
  type Mode,
  type Slice,
} from './slices.js';

export interface PublicEndpointsOptions {
  /** Writes as field manager `trellis-public-endpoints`. */
  kube: KubeClient;
  functions: { kind: FunctionKind; informer: Informer }[];
  /** Services labelled with a function (the Functions' own among them). */
  services: Informer;
  /** EndpointSlices with `kubernetes.io/service-name` (revisions' and the ones written here). */
  slices: Informer<Slice>;
  /** Where the live activators take requests. */
  activators: () => { host: string; port: number }[];
  /**
   * Serve mode is allowed (it still needs every ready instance of the revision metered,
   * docs/adr/0017-instance-meter.md). @default true
   */
  serve?: boolean;
  /**
   * After a switch back to the activators, how long the instances still count as served directly
   * ({@link mode} says `serve`): clients (kube-proxy, the local router) learn new endpoints late, so
   * no scale-down happens before they have. @default 2000
   */
  settleMs?: number;
  events?: EventRecorder;
  logger?: Logger;
}

interface State {
  mode: Mode;
  /** Consecutive decisions for serve (it takes two, so one lucky tick does not flip it). */
  serveVotes: number;
  /** `performance.now()` when the Service last left serve mode. */
  proxySince?: number;
}

/**
 * Knative's serverless service for each Function: its own Service (no selector) gets EndpointSlices
 * written here — the live activators' addresses (proxy mode: at zero, idle, under a burst, while its
 * traffic is split), or, when its one serving revision has spare capacity, that revision's
 * instances (serve mode, allowed only when the direct path is metered). So the Function's Service
 * works at zero as well as warm. A switch writes the new slices before it deletes the old ones:
 * a client sees one set or the other, never none, and what it already sent finishes where it went.
 * Run by the leader after each autoscaler tick, with the capacities it just measured.
 */
export class PublicEndpoints {
  private readonly kube: KubeClient;
  private readonly logger: Logger;
  private readonly states = new Map<string, State>();
  private running: Promise<void> | undefined;

  constructor(private readonly options: PublicEndpointsOptions) {
    this.kube = options.kube.withFieldManager('trellis-public-endpoints');
    this.logger = options.logger ?? silentLogger;
  }

  /**
   * The mode a Function's Service is in now (`namespace/name`) as far as scale-downs are concerned:
   * `serve` also for `settleMs` after it went back to the activators.
   */
  mode(fnKey: string): Mode {
    const state = this.states.get(fnKey);
    if (!state) return 'proxy';
    const settling =
      state.proxySince !== undefined && performance.now() - state.proxySince < (this.options.settleMs ?? 2_000);
    return state.mode === 'serve' || settling ? 'serve' : 'proxy';
  }

  /** Brings every Function's Service up to date with `capacities` (by revision key); never two at once. */
  update(capacities: Map<string, Capacity>): Promise<void> {
    this.running ??= this.sync(capacities).finally(() => (this.running = undefined));
    return this.running;
  }

  private async sync(capacities: Map<string, Capacity>): Promise<void> {
    const seen = new Set<string>();
    for (const { kind, informer } of this.options.functions) {
      for (const fn of informer.list()) {
        if (fn.metadata.deletionTimestamp) continue;
        const key = functionKey(fn.metadata.namespace!, fn.metadata.name!);
        seen.add(key);
        try {
          await this.syncOne(kind, fn, capacities);
        } catch (err) {
          this.logger.warn({ function: key, err: messageOf(err) }, "writing the Function's endpoints failed");
        }
      }
    }
    for (const key of this.states.keys()) if (!seen.has(key)) this.states.delete(key);
  }

  private async syncOne(kind: FunctionKind, fn: KubeObject, capacities: Map<string, Capacity>): Promise<void> {
    const namespace = fn.metadata.namespace!;
    const name = fn.metadata.name!;
    const key = functionKey(namespace, name);
    const service = this.options.services.get(name, namespace);
    if (!service?.metadata.uid || (service.spec as { selector?: object } | undefined)?.selector) return;
    const [main] = trafficRoutes(namespace, name, servedTargets(fn.status as Parameters<typeof servedTargets>[0]));
    const targets = main?.targets ?? [];
    const revision = targets.length === 1 ? targets[0]!.revision : undefined;
    const revName = revision?.slice(namespace.length + 1);
    const sources = revName
      ? this.slicesOf(namespace, revName).filter((s) => (s.endpoints ?? []).some((e) => e.conditions?.ready !== false))
      : [];
    let decided =
      this.options.serve !== false
        ? decideMode(revision ? capacities.get(revision) : undefined, targets.length)
        : { mode: 'proxy' as Mode, why: 'the runtime does not meter a direct path' };
    if (decided.mode === 'serve' && sources.length === 0)
      decided = { mode: 'proxy', why: "its revision's endpoints are not published yet" };
    const state = this.states.get(key) ?? { mode: 'proxy', serveVotes: 0 };
    state.serveVotes = decided.mode === 'serve' ? state.serveVotes + 1 : 0;
    const mode: Mode =
      decided.mode === 'serve' && (state.mode === 'serve' || state.serveVotes >= 2) ? 'serve' : 'proxy';
    const want =
      mode === 'serve' ? serveSlices(service, revName!, sources) : proxySlices(service, this.options.activators());
    const live = this.slicesOf(namespace, name).filter(
      (s) => s.metadata.labels?.[LABEL_SLICE_MANAGED_BY] === PUBLIC_ENDPOINTS_MANAGER,
    );
    // New first, then the old ones go: a client never finds the Service empty.
    for (const s of want) {
      const current = live.find((l) => l.metadata.name === s.metadata.name);
      if (sameSlice(current, s)) continue;
      // A new slice is created (POST), one that exists applied: an apply that creates needs both rights.
      if (current) await this.kube.apply(s);
      else
        await this.kube
          .create(s)
          .catch((err: unknown) => (isAlreadyExists(err) ? this.kube.apply(s) : Promise.reject(err)));
    }
    for (const old of live) {
      if (want.some((s) => s.metadata.name === old.metadata.name)) continue;
      await this.kube
        .delete({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', namespace, name: old.metadata.name! })
        .catch((err: unknown) => {
          if (!isNotFound(err)) throw err;
        });
    }
    if (state.mode !== mode) {
      const regarding = {
        apiVersion: kind.apiVersion,
        kind: kind.kind,
        metadata: { name, namespace, ...(fn.metadata.uid ? { uid: fn.metadata.uid } : {}) },
      };
      const message =
        mode === 'serve'
          ? `its Service ${name} points at the instances of ${revName}: ${decided.why}`
          : `its Service ${name} points at the activators: ${decided.why}`;
      this.options.events?.event(regarding, 'Normal', mode === 'serve' ? 'ServeMode' : 'ProxyMode', 'Route', message);
      this.logger.info({ function: key, mode, why: decided.why }, "Function's Service switched");
    }
    if (state.mode === 'serve' && mode === 'proxy') state.proxySince = performance.now();
    state.mode = mode;
    this.states.set(key, state);
  }

  private slicesOf(namespace: string, service: string): Slice[] {
    return this.options.slices
      .list()
      .filter((s) => s.metadata.namespace === namespace && s.metadata.labels?.[LABEL_SERVICE_NAME] === service);
  }
}
