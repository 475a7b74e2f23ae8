import type { KubeObject } from '../kube/types.js';
import type { Logger } from '../lib/log.js';
import { specOrMetadataChanged, type Manager } from '../runtime/index.js';
import { Activator, type ActivatorOptions } from './activator/activator.js';
import { KubeTrafficSource, revisionWatch, sliceWatch } from './activator/kube-source.js';
import { Autoscaler } from './autoscaler/autoscaler.js';
import type { ActivatorFleet } from './autoscaler/fleet.js';
import { deploymentWatch, KubeScaler } from './backends/kubernetes.js';
import { DEFAULT_SCALE, type ScaleDefaults } from './function/config.js';
import { FUNCTION_KINDS } from './function/kinds.js';
import { FunctionReconciler } from './function/reconcile.js';
import type { FunctionRevision } from './function/revision.js';
import type { Backend } from './function/render.js';
import { PublicEndpoints } from './endpoints/public-endpoints.js';
import type { Slice } from './endpoints/slices.js';
import { LABEL_FUNCTION } from './labels.js';

export interface ServerlessOptions {
  /** Where instances run; `local` needs a LocalRunner on the same cluster. @default 'kubernetes' */
  backend?: Backend;
  /** Activator listen address. @default '127.0.0.1' */
  host?: string;
  /** Activator port. @default 0 (any free port) */
  port?: number;
  /** Host routing domain: `<name>.<namespace>.<domain>`. @default 'fn.localhost' */
  domain?: string;
  /**
   * The port Functions' `status.url` names, when clients call something in front of the activator
   * (`trellis up`'s local router). @default `port`
   */
  urlPort?: number;
  /** Autoscaler decision interval. @default 2000 */
  tickMs?: number;
  /** Windows and rates for Functions that do not set their own. @default {@link DEFAULT_SCALE} */
  scaleDefaults?: Partial<ScaleDefaults>;
  /** Probe interval for new instances. @default 10 */
  probeIntervalMs?: number;
  /** Remove a drained pod the ReplicaSet kept after this long. @default 5000 */
  removalTimeoutMs?: number;
  /** Watch one namespace. @default all */
  namespace?: string;
  /** Function reconciles at once. @default the manager's */
  concurrency?: number;
  /** Replaces the activator's readiness probe (tests whose instances must not be contacted). */
  probe?: ActivatorOptions['probe'];
  /** How long a stopping activator lets what it holds finish. @default 20000 */
  drainTimeoutMs?: number;
  /** Where the autoscaler reads concurrency and drains instances. @default this replica's activator alone */
  fleet?: (activator: Activator) => ActivatorFleet;
  /** Where the live activators take requests (proxy-mode endpoints of Functions' Services). @default this replica's, at `advertise` */
  activators?: () => { host: string; port: number }[];
  /** The host clients reach this replica's activator at (its pod IP). @default `host`, loopback for 0.0.0.0 */
  advertise?: string;
  /**
   * Functions' Services may point at instances directly when warm (serve mode), for revisions whose
   * every ready instance has a meter (docs/adr/0017-instance-meter.md: the local runner's instances
   * do). @default true
   */
  serveMode?: boolean;
  /**
   * Kubernetes backend: the image of the `trellis queue-proxy` sidecar the Function controller puts
   * in every pod (the Trellis image), so instances are metered and serve mode works there.
   * @default none: no sidecar (Functions' Services stay on the activators)
   */
  queueProxyImage?: string;
}

export interface ServerlessParts {
  activator: Activator;
  autoscaler: Autoscaler;
  scaler: KubeScaler;
}

/**
 * Registers the scale-to-zero runtime on a manager (docs/adr/0006-serverless-runtime.md): the
 * Function controller ({@link registerFunctionController}) and the activator with the autoscaler
 * ({@link registerActivator}). The chart runs the two apart, each under its own ServiceAccount —
 * the activator faces user traffic, so it holds only what it needs; `trellis up` and the tests
 * run both in one manager.
 *
 * @example
 *   const mgr = new Manager({ kube, logger, server: { port: 8081 } })
 *   const { activator } = registerServerless(mgr, { port: 8080 })
 *   await mgr.start()
 */
export function registerServerless(mgr: Manager, options: ServerlessOptions = {}): ServerlessParts {
  registerFunctionController(mgr, options);
  return registerActivator(mgr, options);
}

/**
 * The activator (every replica: it serves traffic) and the autoscaler (leader only), sharing the
 * manager's informers, Event recorder and metrics registry. They read Functions, their revisions,
 * Deployments, Services and EndpointSlices, and write only replicas (the `scale` subresource), the
 * deletion cost of drained pods (and delete a drained pod the ReplicaSet kept), Events, and the
 * EndpointSlices of each Function's own Service (the live activators: ADR 0013).
 */
export function registerActivator(mgr: Manager, options: ServerlessOptions = {}): ServerlessParts {
  const logger: Logger = mgr.logger;
  const scaleDefaults = { ...DEFAULT_SCALE, ...options.scaleDefaults };
  const ns = options.namespace ? { namespace: options.namespace } : {};
  const registry = mgr.metrics.registry;
  const activator = new Activator({
    registry,
    logger: logger.child({ component: 'activator' }),
    ...pick(options, ['host', 'port', 'domain', 'probeIntervalMs', 'probe', 'drainTimeoutMs']),
  });
  const kinds = FUNCTION_KINDS.map((kind) => ({
    kind,
    informer: mgr.informer({ apiVersion: kind.apiVersion, kind: kind.kind, ...ns }),
  }));
  const revisions = mgr.informer<FunctionRevision & KubeObject>(revisionWatch(options.namespace));
  new KubeTrafficSource({
    activator,
    functions: kinds,
    revisions,
    slices: mgr.informer(sliceWatch(options.namespace)),
    scaleDefaults,
    logger,
  });
  const deployments = mgr.informer<KubeObject>(deploymentWatch(options.namespace));
  const slices = mgr.informer<Slice>(sliceWatch(options.namespace));
  const endpoints = new PublicEndpoints({
    kube: mgr.kube,
    functions: kinds,
    services: mgr.informer({ apiVersion: 'v1', kind: 'Service', labelSelector: LABEL_FUNCTION, ...ns }),
    slices,
    activators:
      options.activators ?? (() => [{ host: options.advertise ?? options.host ?? '127.0.0.1', port: activator.port }]),
    serve: options.serveMode ?? true,
    events: mgr.recorder,
    logger: logger.child({ component: 'public-endpoints' }),
  });
  const scaler = new KubeScaler({ kube: mgr.kube, deployments, logger, ...pick(options, ['removalTimeoutMs']) });
  const autoscaler = new Autoscaler({
    activator,
    ...(options.fleet ? { fleet: options.fleet(activator) } : {}),
    endpoints,
    scaler,
    registry,
    events: mgr.recorder,
    logger: logger.child({ component: 'autoscaler' }),
    ...pick(options, ['tickMs']),
  });
  mgr.add({
    name: 'activator',
    needLeaderElection: false,
    start: () => activator.start(),
    stop: () => activator.stop(),
  });
  mgr.add({
    name: 'autoscaler',
    start: (signal) => {
      autoscaler.start();
      signal.addEventListener('abort', () => void autoscaler.stop(), { once: true });
    },
    stop: () => autoscaler.stop(),
  });
  return { activator, autoscaler, scaler };
}

/**
 * The Function controllers (leader only): each Function (Trellis' and OpenFaaS') becomes its
 * revisions, their Deployments and Services, and its status (with the URL the activator serves it
 * at: `domain` and `port` as the activator's).
 */
export function registerFunctionController(
  mgr: Manager,
  options: Omit<
    ServerlessOptions,
    'host' | 'probe' | 'probeIntervalMs' | 'tickMs' | 'removalTimeoutMs' | 'drainTimeoutMs' | 'fleet'
  > = {},
): void {
  const scaleDefaults = { ...DEFAULT_SCALE, ...options.scaleDefaults };
  const ns = options.namespace ? { namespace: options.namespace } : {};
  const revisions = mgr.informer<FunctionRevision & KubeObject>(revisionWatch(options.namespace));
  const deployments = mgr.informer<KubeObject>(deploymentWatch(options.namespace));
  for (const kind of FUNCTION_KINDS) {
    const informer = mgr.informer({ apiVersion: kind.apiVersion, kind: kind.kind, ...ns });
    mgr.controller({
      name: kind.name,
      for: { apiVersion: kind.apiVersion, kind: kind.kind, ...ns, predicates: [specOrMetadataChanged] },
      owns: [
        { apiVersion: 'apps/v1', kind: 'Deployment', labelSelector: LABEL_FUNCTION, ...ns },
        { apiVersion: 'v1', kind: 'Service', labelSelector: LABEL_FUNCTION, ...ns },
        revisionWatch(options.namespace),
      ],
      reconciler: new FunctionReconciler({
        kube: mgr.kube,
        kind,
        functions: informer,
        revisions,
        deployments,
        recorder: mgr.recorder,
        backend: options.backend ?? 'kubernetes',
        scaleDefaults,
        ...pick(options, ['domain']),
        ...(options.queueProxyImage ? { queueProxy: { image: options.queueProxyImage } } : {}),
        ...((options.urlPort ?? options.port) ? { activatorPort: options.urlPort ?? options.port } : {}),
      }),
      ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    });
  }
}

function pick<T extends object, K extends keyof T>(obj: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}
