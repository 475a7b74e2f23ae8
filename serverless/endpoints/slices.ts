import net from 'node:net';
import { canonicalJson, contentHash } from '../../lib/hash.js';
import type { KubeObject } from '../../kube/types.js';
import { PORT_NAME } from '../function/render.js';
import { METER_PORT_NAME } from '../meter/instance-meter.js';
import { LABEL_REVISION, LABEL_SERVICE_NAME, LABEL_SLICE_MANAGED_BY } from '../labels.js';

/** The `endpointslice.kubernetes.io/managed-by` of the slices the runtime writes for Functions' own Services. */
export const PUBLIC_ENDPOINTS_MANAGER = 'serverless.trellis.dev';
/** On those slices: `proxy` (the activators) or `serve` (a revision's instances). */
export const LABEL_MODE = 'serverless.trellis.dev/mode';

export type Mode = 'proxy' | 'serve';

export interface SliceEndpoint {
  addresses: string[];
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  targetRef?: { kind?: string; name?: string; namespace?: string; uid?: string };
  nodeName?: string;
}
export type Slice = KubeObject & {
  addressType?: string;
  endpoints?: SliceEndpoint[] | null;
  ports?: { name?: string; port?: number; protocol?: string }[] | null;
};

/** What the mode decision knows about the revision a Function sends everything to. */
export interface Capacity {
  /** Instances ready to serve. */
  ready: number;
  /** Concurrency per instance the autoscaler sizes for. */
  target: number;
  /** Concurrency now: the panic window's average (or the burst that triggered the decision). */
  panic: number;
  /** Average concurrency over the stable window. */
  stable: number;
  /** Spare concurrency needed before the activators leave the path; -1: never. */
  targetBurstCapacity: number;
  /** The autoscaler is taking it to zero. */
  toZero: boolean;
  /** The autoscaler wants fewer instances (the activators drain the ones it removes). */
  scalingDown?: boolean;
  /** Every ready instance has a meter that answered (docs/adr/0017): requests that skip the activators are counted. */
  metered: boolean;
}

/**
 * Knative's serverless-service decision: the activators stay in the path (proxy) at zero, while
 * idle, under a burst, while traffic is split (a Service's endpoints cannot weigh), and whenever the
 * spare capacity — ready instances × target − concurrency − target burst capacity — is negative;
 * otherwise the Function's Service points at the instances (serve).
 *
 * @example
 *   decideMode({ ready: 3, target: 100, panic: 40, stable: 35, targetBurstCapacity: 200, toZero: false, metered: true }, 1)   // { mode: 'serve', ... }
 */
export function decideMode(capacity: Capacity | undefined, targets: number): { mode: Mode; why: string } {
  if (targets !== 1)
    return {
      mode: 'proxy',
      why: targets === 0 ? 'no revision serves it yet' : `its traffic is split between ${targets} revisions`,
    };
  if (!capacity) return { mode: 'proxy', why: 'its revision has not been measured yet' };
  const c = capacity;
  if (c.targetBurstCapacity < 0) return { mode: 'proxy', why: 'scale.targetBurstCapacity is -1' };
  if (c.toZero || c.ready === 0)
    return { mode: 'proxy', why: c.ready === 0 ? 'no instance is ready' : 'it is going to zero' };
  if (!c.metered)
    return {
      mode: 'proxy',
      why: 'not every instance has a meter (requests skipping the activators would go uncounted)',
    };
  if (c.scalingDown)
    return { mode: 'proxy', why: 'it is scaling down (the activators drain the instances it removes)' };
  if (c.stable <= 0) return { mode: 'proxy', why: 'it is idle (the activators take it to zero)' };
  const spare = c.ready * c.target - c.panic - c.targetBurstCapacity;
  const figures = `${c.ready} ready × target ${c.target} − concurrency ${round(c.panic)} − burst capacity ${c.targetBurstCapacity} = ${round(spare)}`;
  return spare >= 0
    ? { mode: 'serve', why: `spare capacity: ${figures}` }
    : { mode: 'proxy', why: `not enough spare capacity: ${figures}` };
}

const round = (n: number) => Math.round(n * 100) / 100;

/** How an activator's address goes into a slice: an IP as it is; loopback or unspecified (a laptop) as a `.localhost` name. */
export function sliceAddress(host: string): { addressType: 'IPv4' | 'IPv6' | 'FQDN'; address: string } {
  const family = net.isIP(host);
  const local =
    host === 'localhost' || host.startsWith('127.') || host === '::1' || host === '0.0.0.0' || host === '::';
  if (local || family === 0) return { addressType: 'FQDN', address: local ? 'activator.localhost' : host };
  return { addressType: family === 6 ? 'IPv6' : 'IPv4', address: host };
}

function slice(
  service: KubeObject,
  mode: Mode,
  key: unknown,
  body: Pick<Slice, 'addressType' | 'endpoints' | 'ports'>,
  revision?: string,
): Slice {
  const name = service.metadata.name!;
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${name.slice(0, 40)}-${mode}-${contentHash(key).slice(0, 10)}`,
      namespace: service.metadata.namespace,
      labels: {
        [LABEL_SERVICE_NAME]: name,
        [LABEL_SLICE_MANAGED_BY]: PUBLIC_ENDPOINTS_MANAGER,
        [LABEL_MODE]: mode,
        ...(revision ? { [LABEL_REVISION]: revision } : {}),
      },
      ownerReferences: [
        {
          apiVersion: 'v1',
          kind: 'Service',
          name,
          uid: service.metadata.uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    ...body,
  };
}

/** Proxy mode: the live activators, one slice per address type and port. */
export function proxySlices(service: KubeObject, activators: { host: string; port: number }[]): Slice[] {
  const groups = new Map<string, { addressType: string; port: number; addresses: Set<string> }>();
  for (const a of activators) {
    const { addressType, address } = sliceAddress(a.host);
    const k = `${addressType}|${a.port}`;
    const g = groups.get(k) ?? { addressType, port: a.port, addresses: new Set<string>() };
    g.addresses.add(address);
    groups.set(k, g);
  }
  return [...groups.values()].map((g) =>
    slice(service, 'proxy', [g.addressType, g.port], {
      addressType: g.addressType,
      endpoints: [...g.addresses]
        .sort()
        .map((address) => ({ addresses: [address], conditions: { ready: true, serving: true, terminating: false } })),
      ports: [{ name: PORT_NAME, port: g.port, protocol: 'TCP' }],
    }),
  );
}

/**
 * Serve mode: the serving revision's own slices, copied (as Knative's serverless service copies its
 * private Service's endpoints) — their serving port only, not the instance meter's.
 */
export function serveSlices(service: KubeObject, revision: string, sources: Slice[]): Slice[] {
  return sources.map((src) =>
    slice(
      service,
      'serve',
      src.metadata.name,
      {
        addressType: src.addressType ?? 'IPv4',
        endpoints: (src.endpoints ?? []).map((e) => ({
          addresses: e.addresses,
          ...(e.conditions ? { conditions: e.conditions } : {}),
          ...(e.targetRef ? { targetRef: e.targetRef } : {}),
          ...(e.nodeName ? { nodeName: e.nodeName } : {}),
        })),
        ports: (src.ports ?? [])
          .filter((p) => p.name !== METER_PORT_NAME)
          .slice(0, 1)
          .map((p) => ({ name: PORT_NAME, port: p.port ?? 0, protocol: p.protocol ?? 'TCP' })),
      },
      revision,
    ),
  );
}

/** True when `live` already has what `want` says (so no write is needed). */
export function sameSlice(live: Slice | undefined, want: Slice): boolean {
  if (!live) return false;
  const body = (s: Slice) =>
    canonicalJson([
      s.addressType,
      s.endpoints ?? [],
      s.ports ?? [],
      s.metadata.labels?.[LABEL_MODE],
      s.metadata.labels?.[LABEL_REVISION],
    ]);
  return body(live) === body(want);
}
