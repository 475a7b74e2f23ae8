import type { KubeObject } from '../../kube/types.js';
import { LABEL_MANAGED_BY, MANAGED_BY } from '../../apis/labels.js';
import { TrellisError } from '../../lib/errors.js';
import { ANNOTATION_ENDPOINTS_SELECTOR, LABEL_FUNCTION, LOCAL_RUNTIME_KEY, LOCAL_RUNTIME_VALUE } from '../labels.js';
import { FUNCTION_API_VERSION, FUNCTION_KIND, functionConfig, type FunctionObject, type ScaleDefaults } from './config.js';
import { mergeTemplate } from './merge.js';

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
}

/** Image of a handler-only Function: never pulled, since only the local runner can run such a function. */
export const HANDLER_ONLY_IMAGE = 'local.serverless.trellis.dev/handler-only:v1';
/** Name of the function's container in its pods. */
export const CONTAINER_NAME = 'function';
/** Name of the port in the Service and the EndpointSlices. */
export const PORT_NAME = 'http';

/**
 * Renders a Function into its Deployment and Service. Pure. The Deployment has no `replicas`: the
 * autoscaler owns that field through the scale subresource, so re-applying never resets it.
 *
 * @example
 *   const [deployment, service] = renderFunction(fn, { backend: 'local' })
 */
export function renderFunction(fn: FunctionObject, options: RenderFunctionOptions = {}): KubeObject[] {
  const config = functionConfig(fn, options.scaleDefaults);
  const backend = options.backend ?? 'kubernetes';
  if (backend === 'kubernetes' && !config.image) {
    throw new TrellisError('TRL_FUNCTION_NO_IMAGE', 'a Function without an image can only run on the local process runner; set spec.image', { object: `Function/${config.key}`, field: 'spec.image' });
  }
  const { namespace, name } = config;
  const selector = { [LABEL_FUNCTION]: name };
  const labels = { ...(fn.metadata.labels ?? {}), [LABEL_MANAGED_BY]: MANAGED_BY, ...selector };
  const ownerReferences = fn.metadata.uid
    ? [{ apiVersion: options.owner?.apiVersion ?? FUNCTION_API_VERSION, kind: options.owner?.kind ?? FUNCTION_KIND, name, uid: fn.metadata.uid, controller: true, blockOwnerDeletion: true }]
    : undefined;
  const metadata = { name, namespace, labels, ...(ownerReferences ? { ownerReferences } : {}) };
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
    readinessProbe: probe,
  };
  let podSpec: Record<string, unknown> = {
    containers: [container],
    // Instances get the request timeout to finish what they serve when stopped.
    terminationGracePeriodSeconds: Math.ceil(config.timeoutMs / 1000) + 5,
    enableServiceLinks: false,
    automountServiceAccountToken: false,
  };
  const template = fn.spec?.template;
  if (template?.spec) podSpec = mergeTemplate(podSpec, template.spec);
  // The function's own container keeps its name, port and PORT whatever the template says.
  const containers = podSpec.containers as Record<string, unknown>[];
  const own = containers.find((c) => c.name === CONTAINER_NAME)!;
  own.env = [...((own.env as { name: string }[] | undefined) ?? []).filter((e) => e.name !== 'PORT'), { name: 'PORT', value: String(config.port) }];
  if (backend === 'local') {
    podSpec.nodeSelector = { ...(podSpec.nodeSelector as object | undefined), [LOCAL_RUNTIME_KEY]: LOCAL_RUNTIME_VALUE };
    podSpec.tolerations = [...((podSpec.tolerations as unknown[] | undefined) ?? []), { key: LOCAL_RUNTIME_KEY, operator: 'Equal', value: LOCAL_RUNTIME_VALUE, effect: 'NoSchedule' }];
  }
  const podLabels = { ...labels, ...(template?.metadata?.labels ?? {}), ...selector };
  const podAnnotations = template?.metadata?.annotations;
  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata,
    spec: {
      selector: { matchLabels: selector },
      // A new version starts before an old instance stops, so a rollout never leaves the function at zero.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: { metadata: { labels: podLabels, ...(podAnnotations ? { annotations: podAnnotations } : {}) }, spec: podSpec },
    },
  };
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: backend === 'local' ? { ...metadata, annotations: { [ANNOTATION_ENDPOINTS_SELECTOR]: `${LABEL_FUNCTION}=${name}` } } : metadata,
    spec: {
      ports: [{ name: PORT_NAME, port: 80, targetPort: config.port, protocol: 'TCP' }],
      ...(backend === 'kubernetes' ? { selector } : {}),
    },
  };
  return [deployment, service];
}
