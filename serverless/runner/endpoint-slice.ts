import { createHash } from 'node:crypto';
import type { KubeObject } from '../../kube/types.js';
import {
  ANNOTATION_ENDPOINTS_SELECTOR,
  LABEL_SERVICE_NAME,
  LABEL_SLICE_MANAGED_BY,
  LOCAL_RUNNER_MANAGER,
} from '../labels.js';
import { METER_PORT_NAME } from '../meter/instance-meter.js';

/** Parses the equality-based selector `k=v,k2=v2` of {@link ANNOTATION_ENDPOINTS_SELECTOR}. */
export function parseSelector(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`"${part}" is not of the form key=value`);
    out[part.slice(0, eq).trim()] = part
      .slice(eq + 1)
      .replace(/^=/, '')
      .trim();
  }
  return out;
}

/** True when the Service asks the local runner to publish the endpoints of pods with these labels. */
export function serviceSelects(service: KubeObject, podLabels: Record<string, string> | undefined): boolean {
  const text = service.metadata.annotations?.[ANNOTATION_ENDPOINTS_SELECTOR];
  if (!text || (service.spec as { selector?: object } | undefined)?.selector) return false;
  let selector: Record<string, string>;
  try {
    selector = parseSelector(text);
  } catch {
    return false;
  }
  const keys = Object.keys(selector);
  return keys.length > 0 && keys.every((k) => podLabels?.[k] === selector[k]);
}

/** Deterministic name of the slice for one pod of one Service (≤ 63 characters). */
export function sliceName(service: string, pod: string): string {
  const name = `${service}-${pod}`;
  if (name.length <= 63) return name;
  return `${name.slice(0, 52)}-${createHash('sha256').update(name).digest('hex').slice(0, 10)}`;
}

export interface SliceEndpoint {
  /** An IP address, or a name (published as addressType FQDN). */
  address: string;
  port: number;
  /** The instance meter's port, published as {@link METER_PORT_NAME} beside the Service's port. */
  meterPort?: number;
  ready: boolean;
  terminating: boolean;
  nodeName: string;
}

/**
 * The name the runner publishes for its instances. The API server refuses loopback IPs in
 * EndpointSlices, so the runner publishes `<node>.localhost` (addressType FQDN) instead: RFC 6761
 * reserves `.localhost` names for the loopback address, and the activator resolves them so.
 */
export const localAddress = (nodeName: string): string => `${nodeName}.localhost`;

const isIp = (address: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(address) || address.includes(':');

/**
 * The EndpointSlice for one pod's instance: one endpoint at `address:port`, the Service's first port
 * name, a targetRef to the pod, controlled by the Service (so it goes when the Service does).
 */
export function endpointSliceFor(service: KubeObject, pod: KubeObject, ep: SliceEndpoint): KubeObject {
  const portName = ((service.spec as { ports?: { name?: string }[] } | undefined)?.ports ?? [])[0]?.name ?? '';
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: sliceName(service.metadata.name!, pod.metadata.name!),
      namespace: pod.metadata.namespace,
      labels: { [LABEL_SERVICE_NAME]: service.metadata.name!, [LABEL_SLICE_MANAGED_BY]: LOCAL_RUNNER_MANAGER },
      ownerReferences: [
        {
          apiVersion: 'v1',
          kind: 'Service',
          name: service.metadata.name!,
          uid: service.metadata.uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    addressType: isIp(ep.address) ? (ep.address.includes(':') ? 'IPv6' : 'IPv4') : 'FQDN',
    endpoints: [
      {
        addresses: [ep.address],
        conditions: { ready: ep.ready && !ep.terminating, serving: ep.ready, terminating: ep.terminating },
        nodeName: ep.nodeName,
        targetRef: { kind: 'Pod', name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid },
      },
    ],
    ports: [
      { name: portName, port: ep.port, protocol: 'TCP' },
      ...(ep.meterPort ? [{ name: METER_PORT_NAME, port: ep.meterPort, protocol: 'TCP' }] : []),
    ],
  };
}
