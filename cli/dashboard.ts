import { Dashboard } from '../dashboard/server.js';
import { cueEngineOptions } from './cue-engine.js';
import { dashboardProvenance } from './dashboard-provenance.js';
import { KubeClient } from '../kube/index.js';
import { createLogger } from '../lib/log.js';
import { parse } from './args.js';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { KUBE_OPTIONS, kubeSource } from './kube-args.js';
import { abortable, runUntilStopped, shutdownTimeout, waitForApiServer } from './lifecycle.js';

const usage = `trellis dashboard — serve a web view of applications, their components, workloads, traits and Events

Usage: trellis dashboard [options]

Serves, until stopped (Ctrl-C), pages updated live from watches: the ApplicationConfigurations across
namespaces (Synced, Ready, reason, age; filter), for each the tree of components → workload → traits
with the health of every object and its Events, component revisions with a diff and a rollback,
Functions and GitSyncs, and the JSON API they are built on (docs/dashboard.md). It reads and acts as
you (the kubeconfig's user): it shows and does what your RBAC allows. Prints its URL once it serves.

Options:
  --address <host>        address to listen on (default 127.0.0.1: this machine only)
  --port <port>           port to listen on (default 0: any free port)
  -n, --namespace <ns>    show one namespace only (when you may not list across namespaces)
  --authenticate          in-cluster mode (the chart's): every request must carry the user's bearer
                          token, checked with a TokenReview; reads and the rollback are authorized
                          for that user with SubjectAccessReviews (the kubeconfig is the dashboard's)
  --metrics-url <url>     an activator's /metrics for the Functions charts (repeatable)
  --activator-namespace <ns>  find the activators' /metrics by their Leases in this namespace
  --log-level <level>     debug, info, warn, error (default info; TRELLIS_LOG_LEVEL)
  --shutdown-timeout <s>  seconds to finish after SIGTERM/SIGINT before exiting anyway (default 1.5)
  --kubeconfig <file>     kubeconfig to use (default: KUBECONFIG, ~/.kube/config)
  --context <name>        kubeconfig context (default: its current one)`;

export const dashboardCommand: Command = {
  usage,
  async run(args, io) {
    const { values } = parse(
      args,
      {
        ...KUBE_OPTIONS,
        address: { type: 'string' },
        port: { type: 'string' },
        authenticate: { type: 'boolean' },
        'metrics-url': { type: 'string', multiple: true },
        'activator-namespace': { type: 'string' },
        'log-level': { type: 'string' },
        'shutdown-timeout': { type: 'string' },
      },
      { positionals: false },
    );
    const port = Number(values.port ?? 0);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`--port must be a port number, got "${values.port}"`);
    const shutdownMs = shutdownTimeout(values['shutdown-timeout']);
    const logger = createLogger({
      name: 'dashboard',
      level: values['log-level'] ?? io.env.TRELLIS_LOG_LEVEL ?? 'info',
      destination: io.err,
    });
    const kube = await KubeClient.connect({
      ...kubeSource(values, io),
      fieldManager: 'trellis-dashboard',
      userAgent: 'trellis-dashboard',
    });
    // CLI mode renders objects with provenance as the user; the chart's dashboard does not (501).
    const rendering = values.authenticate ? undefined : dashboardProvenance(kube, cueEngineOptions(undefined, io));
    let dashboard: Dashboard | undefined;
    return runUntilStopped(io, { logger, shutdownMs }, async ({ signal, stopped }) => {
      try {
        await waitForApiServer(kube, logger, signal);
        const namespace = values.namespace;
        dashboard = new Dashboard({
          kube,
          logger,
          host: values.address ?? '127.0.0.1',
          port,
          ...(namespace ? { namespace } : {}),
          ...(values.authenticate ? { authenticate: true } : {}),
          ...(values['metrics-url'] ? { metricsUrls: values['metrics-url'] } : {}),
          ...(values['activator-namespace'] ? { activatorNamespace: values['activator-namespace'] } : {}),
          ...(rendering ? { provenance: rendering.provenance } : {}),
        });
        await abortable(dashboard.start(), signal);
        io.out.write(`dashboard: ${dashboard.url}\n`);
        await stopped;
        return 0;
      } finally {
        await dashboard?.stop();
        await rendering?.stop();
        kube.close();
      }
    });
  },
};
