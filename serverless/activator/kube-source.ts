import net from 'node:net';
import type { Informer } from '../../kube/index.js';
import type { KubeObject } from '../../kube/types.js';
import { messageOf } from '../../lib/errors.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import { isLocalhostName, resolveEndpointAddress } from '../address.js';
import {
  FUNCTION_API_VERSION,
  FUNCTION_KIND,
  functionConfig,
  functionKey,
  type ScaleDefaults,
} from '../function/config.js';
import type { FunctionKind } from '../function/kinds.js';
import { PORT_NAME } from '../function/render.js';
import { REVISION_KIND, revisionConfig, type FunctionRevision } from '../function/revision.js';
import { revisionsOf } from '../function/revisions.js';
import { routableRevisions, servedTargets, trafficRoutes } from '../function/traffic.js';
import { LABEL_FUNCTION, LABEL_SERVICE_NAME } from '../labels.js';
import { METER_PORT_NAME } from '../meter/instance-meter.js';
import type { Activator } from './activator.js';
import type { EndpointInfo } from './instance.js';

export interface KubeTrafficSourceOptions {
  activator: Activator;
  /** Each function kind with its informer (all, or of one namespace). */
  functions: { kind: FunctionKind; informer: Informer }[];
  /** FunctionRevisions (all, or of the namespace watched). */
  revisions: Informer<FunctionRevision & KubeObject>;
  /** EndpointSlices that carry `kubernetes.io/service-name`. */
  slices: Informer<KubeObject>;
  scaleDefaults?: ScaleDefaults;
  logger?: Logger;
}

interface SliceEndpoint {
  addresses: string[];
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  targetRef?: { kind?: string; name?: string; uid?: string };
}
type Slice = KubeObject & {
  addressType?: string;
  endpoints?: SliceEndpoint[] | null;
  ports?: { name?: string; port?: number }[] | null;
};

/** The informers {@link KubeTrafficSource} reads, as a manager (or a test) would create them. */
export function sliceWatch(namespace?: string) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    labelSelector: LABEL_SERVICE_NAME,
    ...(namespace ? { namespace } : {}),
  };
}

/**
 * Knative's initial scale: the newest revision keeps its first instance until the Function controller
 * has seen it ready (the revision's Ready=True; Failed gives up). Scaled to zero before — a quiet
 * stable window is shorter than a slow start — it would never be ready, and neither its Function.
 */
function awaitsFirstInstance(rev: FunctionRevision): boolean {
  const ready = rev.status?.conditions?.find((c) => c.type === 'Ready');
  return ready?.status !== 'True' && ready?.reason !== 'Failed';
}

/** FunctionRevisions (all carry `serverless.trellis.dev/function`), as the controller and the activator both read them. */
export function revisionWatch(namespace?: string) {
  return {
    apiVersion: FUNCTION_API_VERSION,
    kind: REVISION_KIND,
    labelSelector: LABEL_FUNCTION,
    ...(namespace ? { namespace } : {}),
  };
}

/**
 * Feeds the activator from the API server: every revision of every Function (the revision's pods
 * with the Function's current settings), every Function's routes as its `status.traffic` says (the
 * controller's resolved copy of `spec.traffic`), and every EndpointSlice of a revision's Service
 * (its instances). Works the same whether Kubernetes' EndpointSlice controller or the local process
 * runner published the slices. Subscribes in the constructor (before the informers list, so no
 * object is missed); the informers' owner starts them.
 */
export class KubeTrafficSource {
  private readonly slices: Informer<Slice>;
  private readonly logger: Logger;
  private readonly resolved = new Map<string, string>();
  /** Function key → the route keys it has now. */
  private readonly routes = new Map<string, Set<string>>();

  constructor(private readonly options: KubeTrafficSourceOptions) {
    this.logger = options.logger ?? silentLogger;
    this.slices = options.slices as Informer<Slice>;
    for (const { kind, informer } of options.functions) {
      const onFunction = (obj: KubeObject) => this.sync(kind, obj);
      informer.on({ add: onFunction, update: onFunction, delete: (obj) => this.drop(obj) });
    }
    const onRevision = (rev: FunctionRevision & KubeObject) => this.syncOwner(rev);
    options.revisions.on({
      add: onRevision,
      update: onRevision,
      delete: (rev) => {
        this.options.activator.removeRevision(functionKey(rev.metadata.namespace!, rev.metadata.name!));
        this.syncOwner(rev);
      },
    });
    const onSlice = (slice: Slice) =>
      this.publish(slice.metadata.namespace!, slice.metadata.labels?.[LABEL_SERVICE_NAME] ?? '');
    this.slices.on({ add: onSlice, update: onSlice, delete: onSlice });
  }

  /** Serves the Function's revisions and routes as they are now; an invalid Function keeps what it had. */
  private sync(kind: FunctionKind, obj: KubeObject): void {
    const namespace = obj.metadata.namespace!;
    const name = obj.metadata.name!;
    const key = functionKey(namespace, name);
    const { activator, scaleDefaults } = this.options;
    try {
      const fn = kind.toFunction(obj);
      const settings = functionConfig(fn, scaleDefaults);
      const served = servedTargets(obj.status as Parameters<typeof servedTargets>[0]);
      const routable = routableRevisions(served);
      const origin =
        kind.apiVersion !== FUNCTION_API_VERSION || kind.kind !== FUNCTION_KIND
          ? { origin: { apiVersion: kind.apiVersion, kind: kind.kind } }
          : {};
      const revisions = revisionsOf(fn, this.options.revisions);
      for (const rev of revisions) {
        const config = { ...revisionConfig(fn, rev, scaleDefaults), ...origin };
        // Knative: only a revision that can receive requests keeps its minimum; the others go to zero.
        if (!routable.has(rev.metadata.name!)) config.minScale = 0;
        if (rev === revisions[revisions.length - 1] && awaitsFirstInstance(rev))
          config.minScale = Math.max(config.minScale, 1);
        activator.upsertRevision(config);
      }
      const routes = served.length ? trafficRoutes(namespace, name, served) : [{ key, targets: [] }];
      const before = this.routes.get(key) ?? new Set();
      for (const r of routes) activator.setRoute(r.key, r.targets, settings);
      const now = new Set(routes.map((r) => r.key));
      for (const old of before) if (!now.has(old)) activator.removeRoute(old);
      this.routes.set(key, now);
    } catch (err) {
      this.logger.warn({ function: key, kind: kind.kind, err: messageOf(err) }, 'not serving an invalid function');
    }
  }

  private syncOwner(rev: KubeObject): void {
    const name = rev.metadata.labels?.[LABEL_FUNCTION];
    if (!name) return;
    for (const { kind, informer } of this.options.functions) {
      const fn = informer.get(name, rev.metadata.namespace);
      if (fn && rev.metadata.ownerReferences?.some((o) => o.uid === fn.metadata.uid)) this.sync(kind, fn);
    }
  }

  private drop(obj: KubeObject): void {
    const key = functionKey(obj.metadata.namespace!, obj.metadata.name!);
    for (const route of this.routes.get(key) ?? []) this.options.activator.removeRoute(route);
    this.routes.delete(key);
    for (const rev of this.options.revisions.list()) {
      if (
        rev.metadata.namespace === obj.metadata.namespace &&
        rev.metadata.labels?.[LABEL_FUNCTION] === obj.metadata.name
      )
        this.options.activator.removeRevision(functionKey(rev.metadata.namespace!, rev.metadata.name!));
    }
  }

  /** Recomputes a function's endpoints from all slices of its Service. */
  private publish(namespace: string, service: string): void {
    // Only revisions' Services: their names end in a revision number (a Function's may not).
    if (!/-\d{5,}$/.test(service)) return;
    const endpoints: EndpointInfo[] = [];
    let unresolved = false;
    for (const slice of this.slices.list()) {
      if (slice.metadata.namespace !== namespace || slice.metadata.labels?.[LABEL_SERVICE_NAME] !== service) continue;
      const ports = slice.ports ?? [];
      const port = (ports.find((p) => p.name === PORT_NAME) ?? ports[0])?.port;
      if (!port) continue;
      const meterPort = ports.find((p) => p.name === METER_PORT_NAME)?.port;
      for (const ep of slice.endpoints ?? []) {
        const address = ep.addresses[0];
        if (!address) continue;
        const host = this.resolve(address, () => this.publish(namespace, service));
        if (!host) {
          unresolved = true;
          continue;
        }
        endpoints.push({
          host,
          port,
          ...(meterPort ? { meterPort } : {}),
          ready: ep.conditions?.ready ?? true,
          terminating: ep.conditions?.terminating ?? false,
          ...(ep.targetRef?.kind === 'Pod' && ep.targetRef.name && ep.targetRef.uid
            ? { pod: { name: ep.targetRef.name, uid: ep.targetRef.uid } }
            : {}),
        });
      }
    }
    if (unresolved) this.logger.debug({ function: `${namespace}/${service}` }, 'resolving endpoint names');
    this.options.activator.setEndpoints(functionKey(namespace, service), endpoints);
  }

  /** The IP for an address; names other than *.localhost are looked up once, then `retry` runs. */
  private resolve(address: string, retry: () => void): string | undefined {
    if (net.isIP(address)) return address;
    if (isLocalhostName(address)) return '127.0.0.1';
    const known = this.resolved.get(address);
    if (known) return known;
    void resolveEndpointAddress(address).then(
      (ip) => {
        this.resolved.set(address, ip);
        retry();
      },
      (err: unknown) => this.logger.warn({ address, err: messageOf(err) }, 'cannot resolve an endpoint address'),
    );
    return undefined;
  }
}
