import type { Function as FunctionObject } from '../../apis/generated/serverless.trellis.dev-v1alpha1.js';
import { TrellisError } from '../../lib/errors.js';

export type { Function as FunctionObject, FunctionSpec } from '../../apis/generated/serverless.trellis.dev-v1alpha1.js';
export const FUNCTION_API_VERSION = 'serverless.trellis.dev/v1alpha1';
export const FUNCTION_KIND = 'Function';

/** The autoscaler's windows and rates; a Function's `spec.scale` overrides each one. */
export interface ScaleDefaults {
  /** @default 60 */
  stableWindowSeconds: number;
  /** @default 6 */
  panicWindowSeconds: number;
  /** @default 2 */
  panicThreshold: number;
  /** @default 1000 */
  maxScaleUpRate: number;
  /** @default 2 */
  maxScaleDownRate: number;
  /** @default 30 */
  idleGraceSeconds: number;
  /** Spare concurrency needed before the activators leave the path; -1: never. @default 200 */
  targetBurstCapacity: number;
}

export const DEFAULT_SCALE: ScaleDefaults = {
  stableWindowSeconds: 60,
  panicWindowSeconds: 6,
  panicThreshold: 2,
  maxScaleUpRate: 1000,
  maxScaleDownRate: 2,
  idleGraceSeconds: 30,
  targetBurstCapacity: 200,
};

/** Everything the runtime needs about one function, defaults filled in. */
export interface FunctionConfig {
  namespace: string;
  /** The Function's name, or for one revision of it the revision's (`hello-00002`). */
  name: string;
  /** `namespace/name`: the key the activator and autoscaler index functions (revisions) by. */
  key: string;
  /** The Function's name (for a revision: the Function it belongs to). */
  function: string;
  /** The Function's uid. */
  uid?: string;
  /** The kind the function was written as, when not serverless.trellis.dev's Function (Events name it). */
  origin?: { apiVersion: string; kind: string };
  image?: string;
  /** The handler command split into words, e.g. `['node', 'handler.js']`. */
  command?: string[];
  workingDir?: string;
  port: number;
  env: { name: string; value: string }[];
  readinessPath?: string;
  timeoutMs: number;
  target: number;
  /** 0 = no hard limit. */
  limit: number;
  queueSize: number;
  queueTimeoutMs: number;
  minScale: number;
  /** 0 = no limit. */
  maxScale: number;
  scale: ScaleDefaults;
}

export const functionKey = (namespace: string, name: string): string => `${namespace}/${name}`;

/** The longest Function name whose revisions (`<name>-00001`) still fit a DNS label. */
export const MAX_FUNCTION_NAME = 57;

/**
 * The function's settings with every default filled in. Throws `TRL_FUNCTION_INVALID` naming the
 * field for what the CRD schema cannot catch (it is also the check for objects that never went
 * through the API server, such as `trellis render` output).
 *
 * @example
 *   functionConfig(fn).target   // 100 unless spec.concurrency.target says otherwise
 */
export function functionConfig(
  fn: FunctionObject,
  defaults: ScaleDefaults = DEFAULT_SCALE,
  revisionOf?: string,
): FunctionConfig {
  const namespace = fn.metadata.namespace ?? 'default';
  const name = fn.metadata.name ?? '';
  const object = `Function/${namespace}/${revisionOf ?? name}`;
  const spec = fn.spec ?? {};
  if (!/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) {
    throw new TrellisError(
      'TRL_FUNCTION_INVALID',
      `the name must be a DNS label (lower-case letters, digits and "-", starting with a letter, at most 63 characters): its Service is named after it`,
      { object, field: 'metadata.name' },
    );
  }
  if (!revisionOf && name.length > MAX_FUNCTION_NAME) {
    throw new TrellisError(
      'TRL_FUNCTION_INVALID',
      `the name may have at most ${MAX_FUNCTION_NAME} characters: its revisions are named <name>-00001, ...`,
      { object, field: 'metadata.name' },
    );
  }
  if (!revisionOf && /-\d{5,}$/.test(name)) {
    throw new TrellisError(
      'TRL_FUNCTION_INVALID',
      'the name must not end in "-" and five digits: revision names look like that',
      { object, field: 'metadata.name' },
    );
  }
  const invalid = (field: string, reason: string) =>
    new TrellisError('TRL_FUNCTION_INVALID', reason, { object, field: `spec.${field}` });
  if (!spec.image && !spec.handler)
    throw new TrellisError('TRL_FUNCTION_INVALID', 'a Function needs an image, a handler command, or both', {
      object,
      field: 'spec',
    });
  const command = spec.handler?.trim().split(/\s+/).filter(Boolean);
  if (spec.handler !== undefined && !command?.length) throw invalid('handler', 'the handler command is empty');
  const int = (field: string, value: number | undefined, fallback: number, min: number) => {
    const v = value ?? fallback;
    if (!Number.isInteger(v) || v < min)
      throw invalid(field, `expected an integer ≥ ${min}, got ${JSON.stringify(value)}`);
    return v;
  };
  const num = (field: string, value: number | undefined, fallback: number, min: number) => {
    const v = value ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min)
      throw invalid(field, `expected a number ≥ ${min}, got ${JSON.stringify(value)}`);
    return v;
  };
  const s = spec.scale ?? {};
  const scale: ScaleDefaults = {
    stableWindowSeconds: num('scale.stableWindowSeconds', s.stableWindowSeconds, defaults.stableWindowSeconds, 0.1),
    panicWindowSeconds: num('scale.panicWindowSeconds', s.panicWindowSeconds, defaults.panicWindowSeconds, 0.1),
    panicThreshold: num('scale.panicThreshold', s.panicThreshold, defaults.panicThreshold, 1),
    maxScaleUpRate: num('scale.maxScaleUpRate', s.maxScaleUpRate, defaults.maxScaleUpRate, 1),
    maxScaleDownRate: num('scale.maxScaleDownRate', s.maxScaleDownRate, defaults.maxScaleDownRate, 1),
    idleGraceSeconds: num('scale.idleGraceSeconds', s.idleGraceSeconds, defaults.idleGraceSeconds, 0),
    targetBurstCapacity: int('scale.targetBurstCapacity', s.targetBurstCapacity, defaults.targetBurstCapacity, -1),
  };
  if (scale.panicWindowSeconds > scale.stableWindowSeconds)
    throw invalid(
      'scale.panicWindowSeconds',
      `${scale.panicWindowSeconds} s is longer than the stable window (${scale.stableWindowSeconds} s)`,
    );
  const minScale = int('scale.min', s.min, 0, 0);
  const maxScale = int('scale.max', s.max, 0, 0);
  if (maxScale > 0 && minScale > maxScale) throw invalid('scale.min', `${minScale} exceeds scale.max (${maxScale})`);
  const target = int('concurrency.target', spec.concurrency?.target, 100, 1);
  const limit = int('concurrency.limit', spec.concurrency?.limit, 0, 0);
  if (limit > 0 && target > limit)
    throw invalid('concurrency.target', `${target} exceeds concurrency.limit (${limit})`);
  const port = int('port', spec.port, 8080, 1);
  if (port > 65535) throw invalid('port', `expected a port number, got ${port}`);
  if (spec.readinessPath !== undefined && !spec.readinessPath.startsWith('/'))
    throw invalid('readinessPath', `must start with "/", got ${JSON.stringify(spec.readinessPath)}`);
  const env = (spec.env ?? []).map((e, i) => {
    if (!e.name) throw invalid(`env[${i}].name`, 'is empty');
    return { name: e.name, value: e.value ?? '' };
  });
  return {
    namespace,
    name,
    key: functionKey(namespace, name),
    function: revisionOf ?? name,
    ...(fn.metadata.uid ? { uid: fn.metadata.uid } : {}),
    ...(spec.image ? { image: spec.image } : {}),
    ...(command ? { command } : {}),
    ...(spec.workingDir ? { workingDir: spec.workingDir } : {}),
    port,
    env,
    ...(spec.readinessPath ? { readinessPath: spec.readinessPath } : {}),
    timeoutMs: int('timeoutSeconds', spec.timeoutSeconds, 300, 1) * 1000,
    target,
    limit,
    queueSize: int('queue.size', spec.queue?.size, 1000, 1),
    queueTimeoutMs: Math.round(num('queue.timeoutSeconds', spec.queue?.timeoutSeconds, 60, 0.001) * 1000),
    minScale,
    maxScale,
    scale,
  };
}
