/**
 * The upstream ContainerizedWorkload → Deployment (+ Service for its ports, + ConfigMaps for its
 * config files), as oam-kubernetes-runtime's containerizedworkload controller translated it
 * (DESIGN.md §4.9), for Trellis' ContainerizedWorkload controller. Pure.
 *
 * Kept from upstream: names (Deployment and Service named after the workload; ConfigMap
 * `<workload>-<container>-<fnv32a(mount dir)>`), the pod selector label
 * `containerizedworkload.oam.crossplane.io: <workload uid>`, labels and annotations passed through
 * to the children (labels also to the pod template), env `fromSecret` → `secretKeyRef`, a config file
 * with `value` → a ConfigMap volume mounted at its directory, with `fromSecret` → a Secret volume.
 * Better than upstream: the Service lists every port of every container (upstream: only the first
 * container's first port), is `ClusterIP` (upstream: `LoadBalancer`), and is left out when there are
 * no ports (upstream created an invalid port-less Service).
 */
import type { ContainerizedWorkload, Container } from '../apis/generated/core.oam.dev-v1alpha2.js';
import type { KubeObject } from '../kube/types.js';
import { fnv32a } from '../lib/hash.js';

/** The selector label upstream used (value: the workload's uid). */
export const LABEL_CONTAINERIZED_WORKLOAD = 'containerizedworkload.oam.crossplane.io';

export interface ContainerizedWorkloadObjects {
  deployment: KubeObject;
  /** Absent when no container has ports. */
  service?: KubeObject;
  /** One per (container, config directory) with literal values. */
  configMaps: KubeObject[];
}

export interface TranslateOptions {
  /** Replicas of the Deployment (a ManualScalerTrait's replicaCount); left out (Kubernetes default 1) when unset. */
  replicas?: number;
}

/** Upstream named ConfigMaps with 32-bit FNV-1a (Go's hash/fnv New32a). */
export { fnv32a };

/** `/test/configfile/config` → [`/test/configfile/`, `config`] (Go's path.Split). */
function splitPath(p: string): [string, string] {
  const slash = p.lastIndexOf('/');
  return [p.slice(0, slash + 1), p.slice(slash + 1)];
}

function configMapName(workload: string, container: string, mountDir: string): string {
  return `${workload}-${container}-${fnv32a(mountDir)}`;
}

/** Translates one ContainerizedWorkload (as applied: its uid, when known, selects the pods). */
export function containerizedWorkloadObjects(
  cw: ContainerizedWorkload,
  options: TranslateOptions = {},
): ContainerizedWorkloadObjects {
  const name = cw.metadata.name!;
  const namespace = cw.metadata.namespace;
  const selector = { [LABEL_CONTAINERIZED_WORKLOAD]: cw.metadata.uid ?? name };
  const labels = cw.metadata.labels ?? {};
  // Upstream passed labels and annotations through; Trellis' own annotations describe the workload
  // (its definition, traits, owner), not its children, so they stay behind.
  const annotations = Object.fromEntries(
    Object.entries(cw.metadata.annotations ?? {}).filter(
      ([k]) => !k.startsWith('trellis.dev/') && k !== 'kubectl.kubernetes.io/last-applied-configuration',
    ),
  );
  const meta = (n: string) => ({
    name: n,
    ...(namespace ? { namespace } : {}),
    ...(Object.keys(labels).length ? { labels: { ...labels } } : {}),
    ...(Object.keys(annotations).length ? { annotations: { ...annotations } } : {}),
  });
  const nodeSelector: Record<string, string> = {};
  if (cw.spec.osType) nodeSelector['kubernetes.io/os'] = cw.spec.osType;
  if (cw.spec.arch) nodeSelector['kubernetes.io/arch'] = cw.spec.arch;

  const volumes: Record<string, unknown>[] = [];
  const imagePullSecrets: { name: string }[] = [];
  const configMaps = new Map<string, KubeObject>();
  const containers = cw.spec.containers.map((c) => {
    if (c.imagePullSecret) imagePullSecrets.push({ name: c.imagePullSecret });
    const volumeMounts: Record<string, unknown>[] = [];
    for (const file of c.config ?? []) {
      const [dir, fileName] = splitPath(file.path);
      if (file.value !== undefined) {
        const cmName = configMapName(name, c.name, dir);
        const cm = configMaps.get(cmName);
        if (cm) (cm.data as Record<string, string>)[fileName] = file.value;
        else {
          configMaps.set(cmName, {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: meta(cmName),
            data: { [fileName]: file.value },
          });
          volumes.push({ name: cmName, configMap: { name: cmName } });
          volumeMounts.push({ name: cmName, mountPath: dir });
        }
      } else if (file.fromSecret) {
        volumes.push({
          name: file.fromSecret.name,
          secret: { secretName: file.fromSecret.name, items: [{ key: file.fromSecret.key, path: fileName }] },
        });
        volumeMounts.push({ name: file.fromSecret.name, mountPath: dir });
      }
    }
    return container(c, volumeMounts);
  });

  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(name),
    spec: {
      ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: { ...labels, ...selector } },
        spec: {
          containers,
          ...(volumes.length ? { volumes } : {}),
          ...(imagePullSecrets.length ? { imagePullSecrets } : {}),
          ...(Object.keys(nodeSelector).length ? { nodeSelector } : {}),
        },
      },
    },
  };
  const ports = cw.spec.containers.flatMap((c) => c.ports ?? []);
  const service: KubeObject | undefined = ports.length
    ? {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: meta(name),
        spec: {
          type: 'ClusterIP',
          selector,
          ports: ports.map((p) => ({
            name: p.name,
            port: p.containerPort,
            targetPort: p.containerPort,
            ...(p.protocol ? { protocol: p.protocol } : {}),
          })),
        },
      }
    : undefined;
  return { deployment, ...(service ? { service } : {}), configMaps: [...configMaps.values()] };
}

function container(c: Container, volumeMounts: Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = { name: c.name, image: c.image };
  if (c.command) out.command = c.command;
  if (c.args) out.args = c.args;
  if (c.ports?.length)
    out.ports = c.ports.map((p) => ({
      name: p.name,
      containerPort: p.containerPort,
      ...(p.protocol ? { protocol: p.protocol } : {}),
    }));
  if (c.env?.length) {
    out.env = c.env.map((e) =>
      e.fromSecret
        ? { name: e.name, valueFrom: { secretKeyRef: { name: e.fromSecret.name, key: e.fromSecret.key } } }
        : { name: e.name, value: e.value ?? '' },
    );
  }
  const resources = translateResources(c.resources);
  if (resources.resources) out.resources = resources.resources;
  const mounts = [...volumeMounts, ...resources.volumeMounts];
  if (mounts.length) out.volumeMounts = mounts;
  if (c.livenessProbe) out.livenessProbe = c.livenessProbe;
  if (c.readinessProbe) out.readinessProbe = c.readinessProbe;
  return out;
}

/**
 * OAM resources (`cpu.required`, `memory.required`, `volumes[]`) → requests and volume mounts;
 * Kubernetes-shaped resources (`requests`/`limits`) pass through.
 */
function translateResources(res: Record<string, unknown> | undefined): {
  resources?: Record<string, unknown>;
  volumeMounts: Record<string, unknown>[];
} {
  if (!res) return { volumeMounts: [] };
  if ('requests' in res || 'limits' in res) return { resources: res, volumeMounts: [] };
  const requests: Record<string, unknown> = {};
  const cpu = (res.cpu as { required?: unknown } | undefined)?.required;
  const memory = (res.memory as { required?: unknown } | undefined)?.required;
  if (cpu !== undefined) requests.cpu = cpu;
  if (memory !== undefined) requests.memory = memory;
  const volumeMounts = ((res.volumes as { name: string; mountPath: string }[] | undefined) ?? []).map((v) => ({
    name: v.name,
    mountPath: v.mountPath,
  }));
  return { ...(Object.keys(requests).length ? { resources: { requests } } : {}), volumeMounts };
}
