import type { Function as OpenFaaSFunction } from '../../apis/generated/openfaas.com-v1.js';
import { parseDuration } from '../../lib/duration.js';
import { FUNCTION_API_VERSION, FUNCTION_KIND, type FunctionObject } from './config.js';
import { CONTAINER_NAME } from './render.js';

export type { OpenFaaSFunction };
export const OPENFAAS_API_VERSION = 'openfaas.com/v1';
export const OPENFAAS_KIND = 'Function';

/** OpenFaaS' scaling labels (faas-netes conventions) and what they become. */
const SCALE_MIN = 'com.openfaas.scale.min';
const SCALE_MAX = 'com.openfaas.scale.max';
const SCALE_TARGET = 'com.openfaas.scale.target';
const SCALE_ZERO = 'com.openfaas.scale.zero';
/** How long a function may be idle before it goes to zero (OpenFaaS' idler), a Go duration such as `15m`. */
const SCALE_ZERO_DURATION = 'com.openfaas.scale.zero-duration';

const int = (v: string | undefined): number | undefined =>
  v !== undefined && /^\d+$/.test(v.trim()) ? Number(v) : undefined;

/**
 * The serverless.trellis.dev Function an OpenFaaS Function (openfaas.com/v1) runs as. Pure.
 * `environment` becomes env, `handler` the command, `labels`/`annotations` go to the pods,
 * `limits`/`requests` to the container's resources, `constraints` (`key=value`) to a node
 * selector, `readOnlyRootFilesystem` to the container's security context. Scaling: without
 * `com.openfaas.scale.zero: "true"` the function keeps `max(1, com.openfaas.scale.min, replicas)`
 * instances, as OpenFaaS does; with it, it may scale to zero, after `com.openfaas.scale.zero-duration`
 * without a request when set (the idle grace, and the stable window when shorter than a minute, so
 * that no longer window delays it).
 *
 * @example
 *   fromOpenFaaS(seedWorkload).spec  // { image: 'function/nodeinfo', handler: 'node main.js', env: [...] }
 */
export function fromOpenFaaS(of: OpenFaaSFunction): FunctionObject {
  const spec = of.spec ?? ({} as OpenFaaSFunction['spec']);
  const labels = spec.labels ?? {};
  const toZero = labels[SCALE_ZERO] === 'true';
  const min = Math.max(int(labels[SCALE_MIN]) ?? 0, spec.replicas ?? 0, toZero ? 0 : 1);
  const max = int(labels[SCALE_MAX]);
  const target = int(labels[SCALE_TARGET]);
  const idleMs = toZero ? parseDuration(labels[SCALE_ZERO_DURATION], 0) : 0;
  const idle = idleMs > 0 ? idleMs / 1000 : undefined;
  const resources = {
    ...(spec.limits && Object.keys(spec.limits).length ? { limits: spec.limits } : {}),
    ...(spec.requests && Object.keys(spec.requests).length ? { requests: spec.requests } : {}),
  };
  const nodeSelector: Record<string, string> = {};
  for (const c of spec.constraints ?? []) {
    const m = /^\s*([^=\s]+)\s*==?\s*(.*?)\s*$/.exec(c);
    if (m) nodeSelector[m[1]!] = m[2]!;
  }
  const container: Record<string, unknown> = { name: CONTAINER_NAME };
  if (Object.keys(resources).length) container.resources = resources;
  if (spec.readOnlyRootFilesystem) container.securityContext = { readOnlyRootFilesystem: true };
  const podSpec: Record<string, unknown> = { containers: [container] };
  if (Object.keys(nodeSelector).length) podSpec.nodeSelector = nodeSelector;
  return {
    apiVersion: FUNCTION_API_VERSION,
    kind: FUNCTION_KIND,
    metadata: { ...of.metadata, labels: { ...(of.metadata.labels ?? {}) } },
    spec: {
      image: spec.image,
      ...(spec.handler ? { handler: spec.handler } : {}),
      env: Object.entries(spec.environment ?? {}).map(([name, value]) => ({ name, value })),
      scale: {
        min,
        ...(max !== undefined ? { max } : {}),
        ...(idle !== undefined
          ? {
              idleGraceSeconds: idle,
              ...(idle < 60 ? { stableWindowSeconds: idle, panicWindowSeconds: Math.min(6, idle) } : {}),
            }
          : {}),
      },
      ...(target !== undefined && target > 0 ? { concurrency: { target } } : {}),
      template: {
        metadata: {
          ...(spec.labels ? { labels: spec.labels } : {}),
          ...(spec.annotations ? { annotations: spec.annotations } : {}),
        },
        spec: podSpec,
      },
    },
  };
}
