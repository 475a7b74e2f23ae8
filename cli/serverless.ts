import path from 'node:path';
import { KubeClient } from '../kube/index.js';
import { createLogger } from '../lib/log.js';
import { DEFAULT_SCALE } from '../serverless/function/config.js';
import { ServerlessRuntime } from './serverless-runtime.js';
import { UsageError, type Command } from './command.js';
import { parse } from './args.js';
import { kubeSource } from './kube-args.js';
import { abortable, runUntilStopped, shutdownTimeout, waitForApiServer } from './lifecycle.js';
import { buildInfo } from './build-info.js';

const usage = `trellis serverless — run the scale-to-zero runtime: Function controller, activator, autoscaler

Usage: trellis serverless [--kubeconfig <file>] [options]

Functions (serverless.trellis.dev and openfaas.com) get a Deployment and a Service; requests reach
them through the activator, by Host (<name>.<namespace>.<domain>) or path (/<namespace>/<name>/...);
the autoscaler scales them from zero by concurrency. With --local, a local process runner plays
kubelet: it registers a node of its own and runs each function's handler as a process on 127.0.0.1.
With --peer-addr, this is one of several replicas: every replica's activator takes requests, the
leader's autoscaler adds up what all of them see and drains instances on all before removing any.

Options:
  --kubeconfig <file>          kubeconfig to use (default: KUBECONFIG, ~/.kube/config, in-cluster)
  --context <name>             kubeconfig context (default: its current one)
  -n, --namespace <ns>         serve the functions of one namespace only (default: all)
  --listen <host:port>         the activator's address (default 127.0.0.1:8080)
  --domain <domain>            Host routing domain (default fn.localhost)
  --local                      run handlers as local processes (the local process runner)
  --backend <name>             kubernetes, or local (pods for a local runner running elsewhere)
                               (default kubernetes; local with --local)
  --queue-proxy-image <image>  with the kubernetes backend: put \`trellis queue-proxy\` from this image
                               in every Function pod (serve mode there; default: no sidecar)
  --no-function-controller     leave the Function controller to \`trellis controller --function-controller\`:
                               this process then needs only the activator's rights (the chart does so)
  --root <dir>                 with --local: folder relative handler folders start from
                               (default: the current one)
  --node-name <name>           with --local: the runner's node (default trellis-local-runner)
  --tick <seconds>             autoscaler decision interval (default 2)
  --stable-window <seconds>    default stable window of Functions that set none (default ${DEFAULT_SCALE.stableWindowSeconds})
  --idle-grace <seconds>       default scale-to-zero grace of Functions that set none (default ${DEFAULT_SCALE.idleGraceSeconds})
  --health-addr <host:port>    serve /healthz, /readyz, /metrics (default 127.0.0.1:8082; "0" turns it off)
  --leader-elect               elect a leader on a Lease, so only one replica scales
  --leader-election-namespace <ns>
                               namespace of that Lease (default trellis-system)
  --leader-election-id <name>  name of that Lease, and of the replicas' fleet (default trellis-serverless)
  --lease-duration <s>         seconds a standby waits before taking over; also how long a
                               replica's membership outlives its last renewal (default 15)
  --identity <name>            this replica's name in Leases, Events and meters
                               (default: <hostname>_<random>)
  --peer-addr <host:port>      with --leader-elect: run as one of several replicas, with the peer
                               API here and a membership Lease in the leader election's namespace
  --advertise-address <host>   how the other replicas and Functions' Services reach this one (default
                               $POD_IP, else the --peer-addr host, else 127.0.0.1); peer calls carry
                               $TRELLIS_PEER_TOKEN
  --log-level <level>          trace, debug, info, warn, error (default info)
  --shutdown-timeout <s>       seconds to answer held requests after SIGTERM/SIGINT before exiting
                               anyway (default 1.5; the chart gives the activator 45)

Waits for the API server (logging each attempt, with backoff). Stops on SIGTERM or SIGINT in any
state: held requests are answered within the shutdown timeout, local handler processes stopped; a
second signal exits at once.`;

function hostPort(flag: string, value: string): { host: string; port: number } | undefined {
  if (value === '0' || value === '') return undefined;
  const colon = value.lastIndexOf(':');
  const port = Number(value.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--${flag} must be host:port, got "${value}"`);
  return { host: value.slice(0, colon) || '0.0.0.0', port };
}

function seconds(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`--${flag} must be a positive number of seconds, got "${value}"`);
  return n;
}

/** `--advertise-address`, else the pod's IP from the downward API; else the runtime's default. */
function advertise(flag: string | undefined, env: NodeJS.ProcessEnv): { advertise?: string } {
  const host = flag ?? env.POD_IP;
  return host ? { advertise: host } : {};
}

export const serverlessCommand: Command = {
  usage,
  async run(args, io) {
    const { values } = parse(args, {
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      namespace: { type: 'string', short: 'n' },
      listen: { type: 'string' },
      domain: { type: 'string' },
      local: { type: 'boolean' },
      backend: { type: 'string' },
      'queue-proxy-image': { type: 'string' },
      'peer-addr': { type: 'string' },
      'advertise-address': { type: 'string' },
      'lease-duration': { type: 'string' },
      'leader-election-id': { type: 'string' },
      identity: { type: 'string' },
      'no-function-controller': { type: 'boolean' },
      root: { type: 'string' },
      'node-name': { type: 'string' },
      tick: { type: 'string' },
      'stable-window': { type: 'string' },
      'idle-grace': { type: 'string' },
      'health-addr': { type: 'string' },
      'leader-elect': { type: 'boolean' },
      'leader-election-namespace': { type: 'string' },
      'log-level': { type: 'string' },
      'shutdown-timeout': { type: 'string' },
    });
    const listen = hostPort('listen', values.listen ?? '127.0.0.1:8080');
    if (!listen) throw new UsageError('--listen must name a port');
    const server = hostPort('health-addr', values['health-addr'] ?? '127.0.0.1:8082');
    const tick = seconds('tick', values.tick);
    const shutdownMs = shutdownTimeout(values['shutdown-timeout']);
    const stableWindowSeconds = seconds('stable-window', values['stable-window']);
    const idleGraceSeconds = seconds('idle-grace', values['idle-grace']);
    const backend = values.backend ?? (values.local ? 'local' : 'kubernetes');
    if (backend !== 'local' && backend !== 'kubernetes')
      throw new UsageError(`--backend must be kubernetes or local, got "${backend}"`);
    if (values.local && backend !== 'local')
      throw new UsageError('--local runs handlers for the local backend: leave out --backend, or say --backend local');
    const peerAddr = values['peer-addr'] === undefined ? undefined : hostPort('peer-addr', values['peer-addr']);
    if (peerAddr && !values['leader-elect'])
      throw new UsageError('--peer-addr needs --leader-elect: only the leader of several replicas scales');
    const electionNamespace = values['leader-election-namespace'] ?? 'trellis-system';
    const leaseMs = Math.round((seconds('lease-duration', values['lease-duration']) ?? 15) * 1000);
    if (leaseMs < 2000) throw new UsageError('--lease-duration must be at least 2 seconds');
    const logger = createLogger({ name: 'serverless', level: values['log-level'] ?? 'info', destination: io.err });
    const kube = await KubeClient.connect({
      ...kubeSource(values, io),
      fieldManager: 'trellis',
      userAgent: 'trellis-serverless',
    });
    const runtime = new ServerlessRuntime({
      kube,
      logger,
      build: buildInfo(),
      shutdownMs,
      backend,
      ...(values['no-function-controller'] ? { functionController: false } : {}),
      ...(values['queue-proxy-image'] ? { queueProxyImage: values['queue-proxy-image'] } : {}),
      host: listen.host,
      port: listen.port,
      ...advertise(values['advertise-address'], io.env),
      ...(values.domain ? { domain: values.domain } : {}),
      ...(values.namespace ? { namespace: values.namespace } : {}),
      ...(tick ? { tickMs: Math.round(tick * 1000) } : {}),
      scaleDefaults: {
        ...(stableWindowSeconds
          ? { stableWindowSeconds, panicWindowSeconds: Math.min(DEFAULT_SCALE.panicWindowSeconds, stableWindowSeconds) }
          : {}),
        ...(idleGraceSeconds ? { idleGraceSeconds } : {}),
      },
      ...(server ? { server } : {}),
      ...(values.identity ? { identity: values.identity } : {}),
      ...(values['leader-elect']
        ? {
            leaderElection: {
              namespace: electionNamespace,
              name: values['leader-election-id'] ?? 'trellis-serverless',
              leaseDurationMs: leaseMs,
              renewDeadlineMs: Math.round((leaseMs * 2) / 3),
              retryPeriodMs: Math.max(200, Math.round(leaseMs / 7.5)),
            },
          }
        : {}),
      ...(peerAddr
        ? {
            peers: {
              namespace: electionNamespace,
              host: peerAddr.host,
              port: peerAddr.port,
              leaseDurationMs: leaseMs,
              ...advertise(values['advertise-address'], io.env),
              ...(io.env.TRELLIS_PEER_TOKEN ? { token: io.env.TRELLIS_PEER_TOKEN } : {}),
            },
          }
        : {}),
      runner: values.local
        ? {
            root: path.resolve(io.cwd, values.root ?? '.'),
            ...(values['node-name'] ? { nodeName: values['node-name'] } : {}),
          }
        : false,
    });
    return runUntilStopped(io, { logger, shutdownMs }, async ({ signal, stopped }) => {
      try {
        await waitForApiServer(kube, logger, signal);
        await abortable(runtime.start(), signal);
        io.err.write(
          `activator listening on ${runtime.url} — functions by Host <name>.<namespace>.${runtime.activator.router.domain} or path /<namespace>/<name>/\n`,
        );
        await stopped;
        return 0;
      } finally {
        await runtime.stop();
        kube.close();
      }
    });
  },
};
