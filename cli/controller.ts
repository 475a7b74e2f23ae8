import { readFileSync } from 'node:fs';
import os from 'node:os';
import v8 from 'node:v8';
import path from 'node:path';
import { registerControllers, type ControllersOptions } from '../controllers/index.js';
import { KubeClient } from '../kube/index.js';
import { createLogger } from '../lib/log.js';
import { Manager, replicaIdentity } from '../runtime/index.js';
import { FIELD_MANAGER } from '../controllers/field-managers.js';
import { parse } from './args.js';
import { kubeSource } from './kube-args.js';
import { abortable, runUntilStopped, shutdownTimeout } from './lifecycle.js';
import { buildInfo } from './build-info.js';
import { CUE_ENGINE_OPTIONS, cueEngineOptions, cueEngineUsage } from './cue-engine.js';
import { UsageError, type Command } from './command.js';

/**
 * Go's soft memory limit (GOMEMLIMIT) for the controller's native CUE evaluator, in MiB: it runs with
 * GOGC=400 (few collections, for CPU), so without a limit its heap grows to several times what it
 * holds (38–51 MiB peak at 300 apps, bench:reconcile); the limit makes it collect before then.
 */
const EVALUATOR_MEMORY_MIB = 24;

const usage = `trellis controller — run the Trellis controllers against a cluster

Usage: trellis controller [--kubeconfig <file>] [options]

Options:
  --kubeconfig <file>               kubeconfig to use (default: KUBECONFIG, ~/.kube/config, in-cluster)
  --context <name>                  kubeconfig context (default: its current one)
  --namespace <ns>                  watch one namespace only (default: all)
  --concurrency <n>                 reconciles at once per controller (default 4)
  --leader-elect                    elect a leader on a Lease, so only one replica acts
  --leader-election-namespace <ns>  namespace of that Lease (default trellis-system)
  --leader-election-id <name>       name of that Lease (default trellis-controller)
  --lease-duration <s>              seconds a standby waits before taking over (default 15)
  --shards <n>                      split the work between replicas: n shards, each a Lease in the
                                    leader-election namespace held by one replica at a time (each
                                    replica takes about n / replicas; a dead one's are taken over
                                    once its Leases expire). Give every replica the same n. Implies
                                    --leader-elect for what must run once. Default 0: no sharding
  --health-addr <host:port>         serve /healthz, /readyz, /metrics (default 127.0.0.1:8081;
                                    port 0 picks one; "0" turns it off)
  --revision-history-limit <n>      old Component revisions kept, besides referenced ones (default 10)
  --prometheus-address <url>        Prometheus the rollout trait's analysis asks when it names none
                                    (e.g. http://prometheus.monitoring:9090; default: none)
  --activator-metrics-url <url>     the activator's /metrics, for functions' rollout analysis by the
                                    activator's own counters (repeat for several activators; default: none)
  --log-level <level>               trace, debug, info, warn, error (default info)
  --gitops-cache-dir <dir>          where GitSync keeps fetched repositories (default <tmp>/trellis-git)
  --gitops-receiver-addr <host:port>  serve the Git push receiver (POST /hooks/git) here (default: off)
  --gitops-webhook-secret-file <f>  the receiver's HMAC secret (or set TRELLIS_GITOPS_WEBHOOK_SECRET)
  --gitops-default-service-account <name>
                                    GitSyncs without spec.serviceAccountName act as this ServiceAccount
                                    of their own namespace (default: as the controller itself)
  --identity <name>                 this replica's name in the Lease and Events (default: <hostname>_<random>)
  --function-controller             run the Function controller here too (with \`trellis serverless
                                    --no-function-controller\` for the activator, as the chart does)
  --functions-domain <domain>       the activator's Host routing domain, for Functions' status.url
                                    (default fn.localhost)
  --functions-port <port>           the activator's port in those URLs (default: none, i.e. 80)
  --functions-backend <name>        kubernetes, or local (as the activator's \`trellis serverless --backend\`)
                                    (default kubernetes)
  --functions-queue-proxy-image <image>  kubernetes backend: put \`trellis queue-proxy\` from this image
                                    (Trellis') in every Function pod, so warm Functions are served
                                    without the activators (default: no sidecar)
${cueEngineUsage(36)}
  --shutdown-timeout <s>            seconds to finish after SIGTERM/SIGINT before exiting anyway (default 1.5)

Waits for the API server (logging each attempt, with backoff) and serves /healthz meanwhile. Stops on
SIGTERM or SIGINT in any state: running reconciles get the shutdown timeout to finish, the lease is
released; a second signal exits at once.`;

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number, got "${value}"`);
  return n;
}

function hostPort(value: string): { host: string; port: number } | undefined {
  if (value === '0' || value === '') return undefined;
  const colon = value.lastIndexOf(':');
  const port = Number(value.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port)) throw new UsageError(`--health-addr must be host:port, got "${value}"`);
  return { host: value.slice(0, colon) || '0.0.0.0', port };
}

export const controllerCommand: Command = {
  usage,
  async run(args, io) {
    const { values } = parse(
      args,
      {
        kubeconfig: { type: 'string' },
        context: { type: 'string' },
        namespace: { type: 'string' },
        concurrency: { type: 'string' },
        'leader-elect': { type: 'boolean' },
        'leader-election-namespace': { type: 'string' },
        'leader-election-id': { type: 'string' },
        'lease-duration': { type: 'string' },
        shards: { type: 'string' },
        'health-addr': { type: 'string' },
        'revision-history-limit': { type: 'string' },
        'prometheus-address': { type: 'string' },
        'activator-metrics-url': { type: 'string', multiple: true },
        'log-level': { type: 'string' },
        'gitops-cache-dir': { type: 'string' },
        'gitops-receiver-addr': { type: 'string' },
        'gitops-webhook-secret-file': { type: 'string' },
        'gitops-default-service-account': { type: 'string' },
        identity: { type: 'string' },
        ...CUE_ENGINE_OPTIONS,
        'shutdown-timeout': { type: 'string' },
        'function-controller': { type: 'boolean' },
        'functions-domain': { type: 'string' },
        'functions-port': { type: 'string' },
        'functions-backend': { type: 'string' },
        'functions-queue-proxy-image': { type: 'string' },
      },
      { positionals: false },
    );
    const concurrency = positiveInt('concurrency', values.concurrency, 4) || 1;
    const leaseSeconds = positiveInt('lease-duration', values['lease-duration'], 15);
    if (leaseSeconds < 2) throw new UsageError('--lease-duration must be at least 2 seconds');
    const defaultServiceAccount = values['gitops-default-service-account'];
    if (
      defaultServiceAccount !== undefined &&
      !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(defaultServiceAccount)
    ) {
      throw new UsageError(
        `--gitops-default-service-account must be a ServiceAccount name (lower-case DNS subdomain), got "${defaultServiceAccount}"`,
      );
    }
    const prometheusAddress = values['prometheus-address'];
    for (const [flag, url] of [
      ['prometheus-address', prometheusAddress],
      ...(values['activator-metrics-url'] ?? []).map((u) => ['activator-metrics-url', u]),
    ] as [string, string | undefined][]) {
      if (url !== undefined && !/^https?:\/\/[^\s/]+/.test(url))
        throw new UsageError(`--${flag} must be an http(s) URL, got "${url}"`);
    }
    const engine = cueEngineOptions(values['cue-engine'], io);
    const cue = { ...engine, evaluator: { memoryLimitMiB: EVALUATOR_MEMORY_MIB, ...engine.evaluator } };
    const shards = positiveInt('shards', values.shards, 0);
    const server = hostPort(values['health-addr'] ?? '127.0.0.1:8081');
    const shutdownMs = shutdownTimeout(values['shutdown-timeout']);
    const identity = values.identity ?? replicaIdentity();
    const leases = {
      namespace: values['leader-election-namespace'] ?? 'trellis-system',
      name: values['leader-election-id'] ?? 'trellis-controller',
      leaseDurationMs: leaseSeconds * 1000,
      renewDeadlineMs: Math.round(leaseSeconds * 1000 * (2 / 3)),
      retryPeriodMs: Math.max(200, Math.round((leaseSeconds * 1000) / 7.5)),
    };
    const logger = createLogger({ name: 'controller', level: values['log-level'] ?? 'info', destination: io.err });
    const kube = await KubeClient.connect({
      ...kubeSource(values, io),
      fieldManager: FIELD_MANAGER,
      userAgent: `trellis-controller/${identity}`,
    });
    let exitCode = 0;
    let wake!: () => void;
    const done = new Promise<void>((resolve) => (wake = resolve));
    const manager = new Manager({
      kube,
      logger,
      concurrency,
      waitForServer: true,
      gracefulShutdownMs: Math.max(100, shutdownMs - 500),
      build: buildInfo(),
      identity,
      ...(server ? { server } : {}),
      ...(values['leader-elect'] || shards ? { leaderElection: leases } : {}),
      ...(shards ? { sharding: { ...leases, shards } } : {}),
      onLeadershipLost: () => {
        exitCode = 1;
        wake();
      },
    });
    const receiverAddr = values['gitops-receiver-addr'] ? hostPort(values['gitops-receiver-addr']) : undefined;
    const webhookSecret = values['gitops-webhook-secret-file']
      ? readFileSync(values['gitops-webhook-secret-file'], 'utf8').trim()
      : io.env.TRELLIS_GITOPS_WEBHOOK_SECRET;
    if (receiverAddr && !webhookSecret)
      throw new UsageError(
        '--gitops-receiver-addr needs a secret: --gitops-webhook-secret-file or TRELLIS_GITOPS_WEBHOOK_SECRET',
      );
    let functions: ControllersOptions['functions'];
    if (values['function-controller']) {
      const port =
        values['functions-port'] === undefined ? undefined : positiveInt('functions-port', values['functions-port'], 0);
      const backend = values['functions-backend'] ?? 'kubernetes';
      if (backend !== 'local' && backend !== 'kubernetes')
        throw new UsageError(`--functions-backend must be kubernetes or local, got "${backend}"`);
      functions = {
        backend,
        ...(values['functions-domain'] ? { domain: values['functions-domain'] } : {}),
        ...(port ? { port } : {}),
        ...(values['functions-queue-proxy-image'] ? { queueProxyImage: values['functions-queue-proxy-image'] } : {}),
      };
    }
    registerControllers(manager, {
      cue,
      version: buildInfo().version,
      ...(values.namespace ? { namespace: values.namespace } : {}),
      ...(values['revision-history-limit'] !== undefined
        ? { revisionHistoryLimit: positiveInt('revision-history-limit', values['revision-history-limit'], 10) }
        : {}),
      ...(prometheusAddress ? { prometheusAddress } : {}),
      ...(values['activator-metrics-url']?.length ? { activatorMetrics: values['activator-metrics-url'] } : {}),
      ...(functions ? { functions } : {}),
      gitops: {
        cacheDir: values['gitops-cache-dir'] ?? path.join(os.tmpdir(), 'trellis-git'),
        ...(receiverAddr && webhookSecret ? { receiver: { secret: webhookSecret, ...receiverAddr } } : {}),
        ...(defaultServiceAccount ? { defaultServiceAccount } : {}),
      },
    });
    return runUntilStopped(io, { logger, shutdownMs }, async ({ signal, stopped }) => {
      try {
        await abortable(manager.start(), signal);
        logger.info(
          {
            identity: manager.identity,
            port: manager.port || undefined,
            leaderElection: !!values['leader-elect'],
            shards,
            ...memoryFigures(),
          },
          'controller running',
        );
        io.out.write(
          `trellis controller running as ${manager.identity}${server ? ` (health and metrics on ${server.host}:${manager.port})` : ''}\n`,
        );
        await Promise.race([done, stopped]);
        return exitCode;
      } finally {
        await manager.stop();
        kube.close();
      }
    });
  },
};

/**
 * The memory the controller runs within, for its start line: V8's heap limit, which Node derives
 * from the container's memory limit when there is one (`containerMemoryMiB`) — under the chart's
 * 512Mi, ≈ 259 MiB, and V8 then collects before the heap grows far past what is alive (BENCHMARKS.md).
 */
function memoryFigures(): { heapLimitMiB: number; containerMemoryMiB?: number } {
  const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
  const constrained = process.constrainedMemory?.() ?? 0;
  // No limit reads as 0, or as a huge number (cgroup v1's "unlimited").
  const limited = constrained > 0 && constrained < os.totalmem();
  return {
    heapLimitMiB: mib(v8.getHeapStatistics().heap_size_limit),
    ...(limited ? { containerMemoryMiB: mib(constrained) } : {}),
  };
}
