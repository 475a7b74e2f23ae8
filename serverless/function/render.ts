import type { KubeObject } from '../../kube/types.js';
import { LABEL_MANAGED_BY, MANAGED_BY } from '../../apis/labels.js';
import { TrellisError } from '../../lib/errors.js';
import {
  ANNOTATION_ENDPOINTS_SELECTOR,
  ANNOTATION_REVISION_HASH,
  LABEL_FUNCTION,
  LABEL_REVISION,
  LOCAL_RUNTIME_KEY,
  LOCAL_RUNTIME_VALUE,
} from '../labels.js';
import {
  FUNCTION_API_VERSION,
  FUNCTION_KIND,
  functionConfig,
  type FunctionConfig,
  type FunctionObject,
  type FunctionSpec,
  type ScaleDefaults,
} from './config.js';
import { METER_PORT_NAME } from '../meter/instance-meter.js';
import { QUEUE_METER_PORT, QUEUE_PROXY_PORT, QUEUE_PROXY_PORT_NAME, QUEUE_READY_PATH } from '../meter/queue-proxy.js';
import { mergeTemplate } from './merge.js';
import { revisionConfig, type FunctionRevision } from './revision.js';

/**
 * Where instances run. `kubernetes`: pods on ordinary nodes, endpoints published by Kubernetes'
 * EndpointSlice controller (the Service has a selector). `local`: pods go to a local process
 * runner's node and the runner publishes their endpoints (the Service has no selector).
 */
export type Backend = 'kubernetes' | 'local';

export interface RenderFunctionOptions {
  /** @default 'kubernetes' */
  backend?: Backend;
  scaleDefaults?: ScaleDefaults;
  /** The kind that controls what is rendered. @default the serverless.trellis.dev Function */
  owner?: { apiVersion: string; kind: string };
  /**
   * Kubernetes backend: put `trellis queue-proxy` from this image (the Trellis image) beside the
   * function in every pod, so its instances are metered and a warm Function is served without the
   * activators (docs/adr/0017-instance-meter.md). Ignored on the local backend (its meter runs in the
   * handler). @default none: no sidecar, the Function's Service stays on the activators
   */
  queueProxy?: { image: string };
}

/** Name of the queue-proxy's container in a Function's pods. */
export const QUEUE_PROXY_CONTAINER = 'queue-proxy';

/** Image of a handler-only Function: never pulled, since only the local runner can run such a function. */
export const HANDLER_ONLY_IMAGE = 'local.serverless.trellis.dev/handler-only:v1';
/** Name of the function's container in its pods. */
export const CONTAINER_NAME = 'function';
/** Name of the port in the Service and the EndpointSlices. */
export const PORT_NAME = 'http';

/**
 * Throws what rendering the Function would: `TRL_FUNCTION_INVALID` naming the field, or
 * `TRL_FUNCTION_NO_IMAGE` for a handler-only Function on the Kubernetes backend.
 */
export function checkFunction(fn: FunctionObject, options: RenderFunctionOptions = {}): FunctionConfig {
  const config = functionConfig(fn, options.scaleDefaults);
  if ((options.backend ?? 'kubernetes') === 'kubernetes' && !config.image) {
    throw new TrellisError(
      'TRL_FUNCTION_NO_IMAGE',
      'a Function without an image can only run on the local process runner; set spec.image',
      { object: `Function/${config.namespace}/${config.function}`, field: 'spec.image' },
    );
  }
  checkQueueProxyPort(config, options);
  return config;
}

/** The queue-proxy's ports are taken in the pod: a function may not listen on them. */
function checkQueueProxyPort(config: FunctionConfig, options: RenderFunctionOptions): void {
  if ((options.backend ?? 'kubernetes') !== 'kubernetes' || !options.queueProxy) return;
  if (config.port !== QUEUE_PROXY_PORT && config.port !== QUEUE_METER_PORT) return;
  throw new TrellisError(
    'TRL_FUNCTION_INVALID',
    `port ${config.port} is the queue-proxy's (${QUEUE_PROXY_PORT} and ${QUEUE_METER_PORT} are taken in the pod); ` +
      'choose another spec.port',
    { object: `Function/${config.namespace}/${config.function}`, field: 'spec.port' },
  );
}

/** Owner references naming the Function as the controller of what is rendered for it. */
function ownedBy(fn: FunctionObject, owner: RenderFunctionOptions['owner']): KubeObject['metadata']['ownerReferences'] {
  if (!fn.metadata.uid) return undefined;
  return [
    {
      apiVersion: owner?.apiVersion ?? FUNCTION_API_VERSION,
      kind: owner?.kind ?? FUNCTION_KIND,
      name: fn.metadata.name!,
      uid: fn.metadata.uid,
      controller: true,
      blockOwnerDeletion: true,
    },
  ];
}

/**
 * Renders one revision of a Function into its Deployment and Service, both named after the
 * revision and controlled by the Function. Pure. The pods run what the revision holds; the
 * Deployment has no `replicas`: the autoscaler owns that field through the scale subresource, so
 * re-applying never resets it (a new Deployment starts with one instance, as Knative's initial scale).
 *
 * @example
 *   const [deployment, service] = renderRevision(fn, rev, { backend: 'local' })   // both named hello-00002
 */
export function renderRevision(
  fn: FunctionObject,
  rev: FunctionRevision,
  options: RenderFunctionOptions = {},
): KubeObject[] {
  const config = revisionConfig(fn, rev, options.scaleDefaults);
  const backend = options.backend ?? 'kubernetes';
  if (backend === 'kubernetes' && !config.image) {
    throw new TrellisError(
      'TRL_FUNCTION_NO_IMAGE',
      'a Function without an image can only run on the local process runner; set spec.image',
      { object: `Function/${config.namespace}/${config.function}`, field: 'spec.image' },
    );
  }
  const queueProxy = backend === 'kubernetes' ? options.queueProxy : undefined;
  checkQueueProxyPort(config, options);
  const { namespace, name } = config;
  const selector = { [LABEL_REVISION]: name };
  const own = { [LABEL_FUNCTION]: config.function, ...selector };
  const labels = { ...(rev.metadata.labels ?? {}), [LABEL_MANAGED_BY]: MANAGED_BY, ...own };
  const ownerReferences = ownedBy(fn, options.owner);
  const hash = rev.metadata.annotations?.[ANNOTATION_REVISION_HASH];
  const metadata = {
    name,
    namespace,
    labels,
    ...(hash ? { annotations: { [ANNOTATION_REVISION_HASH]: hash } } : {}),
    ...(ownerReferences ? { ownerReferences } : {}),
  };
  const probe = config.readinessPath
    ? { httpGet: { path: config.readinessPath, port: config.port }, periodSeconds: 1, failureThreshold: 1 }
    : { tcpSocket: { port: config.port }, periodSeconds: 1, failureThreshold: 1 };
  const container = {
    name: CONTAINER_NAME,
    image: config.image ?? HANDLER_ONLY_IMAGE,
    ...(config.command ? { command: config.command } : {}),
    ...(config.workingDir ? { workingDir: config.workingDir } : {}),
    ports: [{ name: PORT_NAME, containerPort: config.port, protocol: 'TCP' }],
    env: config.env,
    // With the queue-proxy, the pod's readiness goes through it (it probes the function: Knative's way).
    ...(queueProxy ? {} : { readinessProbe: probe }),
  };
  let podSpec: Record<string, unknown> = {
    containers: queueProxy ? [container, queueProxyContainer(queueProxy.image, config)] : [container],
    // Instances get the request timeout to finish what they serve when stopped.
    terminationGracePeriodSeconds: Math.ceil(config.timeoutMs / 1000) + 5,
    enableServiceLinks: false,
    automountServiceAccountToken: false,
  };
  const template = rev.spec.template as FunctionSpec['template'];
  if (template?.spec) podSpec = mergeTemplate(podSpec, template.spec);
  // The function's own container keeps its name, port and PORT whatever the template says.
  const containers = podSpec.containers as Record<string, unknown>[];
  const fnContainer = containers.find((c) => c.name === CONTAINER_NAME)!;
  fnContainer.env = [
    ...((fnContainer.env as { name: string }[] | undefined) ?? []).filter((e) => e.name !== 'PORT'),
    { name: 'PORT', value: String(config.port) },
  ];
  if (backend === 'local') {
    podSpec.nodeSelector = {
      ...(podSpec.nodeSelector as object | undefined),
      [LOCAL_RUNTIME_KEY]: LOCAL_RUNTIME_VALUE,
    };
    podSpec.tolerations = [
      ...((podSpec.tolerations as unknown[] | undefined) ?? []),
      { key: LOCAL_RUNTIME_KEY, operator: 'Equal', value: LOCAL_RUNTIME_VALUE, effect: 'NoSchedule' },
    ];
  }
  const podLabels = { ...labels, ...(template?.metadata?.labels ?? {}), ...own };
  const podAnnotations = template?.metadata?.annotations;
  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata,
    spec: {
      selector: { matchLabels: selector },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: podLabels, ...(podAnnotations ? { annotations: podAnnotations } : {}) },
        spec: podSpec,
      },
    },
  };
  const ports = queueProxy
    ? [
        { name: PORT_NAME, port: 80, targetPort: QUEUE_PROXY_PORT_NAME, protocol: 'TCP' },
        { name: METER_PORT_NAME, port: QUEUE_METER_PORT, targetPort: METER_PORT_NAME, protocol: 'TCP' },
      ]
    : [{ name: PORT_NAME, port: 80, targetPort: config.port, protocol: 'TCP' }];
  return [deployment, serviceFor(name, namespace, { labels, ownerReferences }, selector, ports, backend)];
}

/**
 * The `trellis queue-proxy` sidecar: clients (and activators) reach the function through it on
 * {@link QUEUE_PROXY_PORT}; its meter and the pod's readiness answer on {@link QUEUE_METER_PORT}.
 * No API access, no privileges.
 */
function queueProxyContainer(image: string, config: FunctionConfig): Record<string, unknown> {
  return {
    name: QUEUE_PROXY_CONTAINER,
    image,
    args: [
      'queue-proxy',
      '--upstream-port',
      String(config.port),
      '--timeout-seconds',
      String(config.timeoutMs / 1000),
      ...(config.readinessPath ? ['--probe-path', config.readinessPath] : []),
    ],
    ports: [
      { name: QUEUE_PROXY_PORT_NAME, containerPort: QUEUE_PROXY_PORT, protocol: 'TCP' },
      { name: METER_PORT_NAME, containerPort: QUEUE_METER_PORT, protocol: 'TCP' },
    ],
    readinessProbe: {
      httpGet: { path: QUEUE_READY_PATH, port: METER_PORT_NAME },
      periodSeconds: 1,
      failureThreshold: 1,
    },
    resources: { requests: { cpu: '25m', memory: '48Mi' } },
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    },
  };
}

/**
 * The Function's own (public) Service, named after it, without a selector: the runtime writes its
 * EndpointSlices — the activators' addresses (proxy mode, always at zero), or the serving revision's
 * instances when it has spare capacity (serve mode). See docs/adr/0013-activator-ha.md.
 */
export function renderFunctionService(fn: FunctionObject, options: RenderFunctionOptions = {}): KubeObject {
  const config = functionConfig(fn, options.scaleDefaults);
  const { [LABEL_REVISION]: _r, ...inherited } = fn.metadata.labels ?? {};
  const ownerReferences = ownedBy(fn, options.owner);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: config.name,
      namespace: config.namespace,
      labels: { ...inherited, [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_FUNCTION]: config.name },
      ...(ownerReferences ? { ownerReferences } : {}),
    },
    spec: { ports: [{ name: PORT_NAME, port: 80, targetPort: PORT_NAME, protocol: 'TCP' }] },
  };
}

function serviceFor(
  name: string,
  namespace: string,
  meta: Pick<KubeObject['metadata'], 'labels' | 'ownerReferences'>,
  selector: Record<string, string>,
  ports: Record<string, unknown>[],
  backend: Backend,
): KubeObject {
  const metadata = {
    name,
    namespace,
    labels: meta.labels,
    ...(meta.ownerReferences ? { ownerReferences: meta.ownerReferences } : {}),
  };
  const selectorText = Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata:
      backend === 'local' ? { ...metadata, annotations: { [ANNOTATION_ENDPOINTS_SELECTOR]: selectorText } } : metadata,
    spec: {
      ports,
      ...(backend === 'kubernetes' ? { selector } : {}),
    },
  };
}
