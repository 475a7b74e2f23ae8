import net from 'node:net';
import type { Informer } from '../../kube/index.js';
import type { KubeObject } from '../../kube/types.js';
import { messageOf } from '../../lib/errors.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import { isLocalhostName, resolveEndpointAddress } from '../address.js';
import { FUNCTION_API_VERSION, FUNCTION_KIND, functionConfig, functionKey, type ScaleDefaults } from '../function/config.js';
import type { FunctionKind } from '../function/kinds.js';
import { PORT_NAME } from '../function/render.js';
import { LABEL_SERVICE_NAME } from '../labels.js';
import type { Activator } from './activator.js';
import type { EndpointInfo } from './instance.js';

export interface KubeTrafficSourceOptions {
  activator: Activator;
  /** Each function kind with its informer (all, or of one namespace). */
  functions: { kind: FunctionKind; informer: Informer }[];
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
type Slice = KubeObject & { addressType?: string; endpoints?: SliceEndpoint[] | null; ports?: { name?: string; port?: number }[] | null };

/** The informers {@link KubeTrafficSource} reads, as a manager (or a test) would create them. */
export function sliceWatch(namespace?: string) {
  return { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', labelSelector: LABEL_SERVICE_NAME, ...(namespace ? { namespace } : {}) };
}

/**
 * Feeds the activator from the API server: every Function (its settings) and every EndpointSlice of
 * a function's Service (its instances). Works the same whether Kubernetes' EndpointSlice controller
 * or the local process runner published the slices. Subscribes in the constructor (before the
 * informers list, so no object is missed); the informers' owner starts them.
 */
export class KubeTrafficSource {
  private readonly slices: Informer<Slice>;
  private readonly logger: Logger;
  private readonly resolved = new Map<string, string>();

  constructor(private readonly options: KubeTrafficSourceOptions) {
    this.logger = options.logger ?? silentLogger;
    this.slices = options.slices as Informer<Slice>;
    for (const { kind, informer } of options.functions) {
      const onFunction = (obj: KubeObject) => this.upsert(kind, obj);
      informer.on({ add: onFunction, update: onFunction, delete: (obj) => this.options.activator.removeFunction(functionKey(obj.metadata.namespace!, obj.metadata.name!)) });
    }
    const onSlice = (slice: Slice) => this.publish(slice.metadata.namespace!, slice.metadata.labels?.[LABEL_SERVICE_NAME] ?? '');
    this.slices.on({ add: onSlice, update: onSlice, delete: onSlice });
  }

  private upsert(kind: FunctionKind, obj: KubeObject): void {
    try {
      const config = functionConfig(kind.toFunction(obj), this.options.scaleDefaults);
      if (kind.apiVersion !== FUNCTION_API_VERSION || kind.kind !== FUNCTION_KIND) config.origin = { apiVersion: kind.apiVersion, kind: kind.kind };
      this.options.activator.upsertFunction(config);
    } catch (err) {
      this.logger.warn({ function: `${obj.metadata.namespace}/${obj.metadata.name}`, kind: kind.kind, err: messageOf(err) }, 'not serving an invalid function');
    }
  }

  /** Recomputes a function's endpoints from all slices of its Service. */
  private publish(namespace: string, service: string): void {
    if (!service) return;
    const endpoints: EndpointInfo[] = [];
    let unresolved = false;
    for (const slice of this.slices.list()) {
      if (slice.metadata.namespace !== namespace || slice.metadata.labels?.[LABEL_SERVICE_NAME] !== service) continue;
      const ports = slice.ports ?? [];
      const port = (ports.find((p) => p.name === PORT_NAME) ?? ports[0])?.port;
      if (!port) continue;
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
          ready: ep.conditions?.ready ?? true,
          terminating: ep.conditions?.terminating ?? false,
          ...(ep.targetRef?.kind === 'Pod' && ep.targetRef.name && ep.targetRef.uid ? { pod: { name: ep.targetRef.name, uid: ep.targetRef.uid } } : {}),
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
