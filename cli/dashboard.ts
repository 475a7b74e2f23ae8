import { Dashboard } from '../dashboard/server.js';
import { KubeClient } from '../kube/index.js';
import { createLogger } from '../lib/log.js';
import { parse } from './args.js';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { KUBE_OPTIONS, kubeSource } from './kube-args.js';
import { abortable, runUntilStopped, shutdownTimeout, waitForApiServer } from './lifecycle.js';

const usage = `trellis dashboard — serve a web view of applications, their components, workloads, traits and Events

Usage: trellis dashboard [options]

Serves, until stopped (Ctrl-C), read-only pages updated live from watches: the ApplicationConfigurations
across namespaces (Synced, Ready, reason, age; filter), and for each the tree of components →
workload → traits with the health of every object and its Events. It reads as you (the kubeconfig's
user): it shows what your RBAC lets you see. Prints its URL once it serves.

Options:
  --address <host>        address to listen on (default 127.0.0.1: this machine only)
  --port <port>           port to listen on (default 0: any free port)
  -n, --namespace <ns>    show one namespace only (when you may not list across namespaces)
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
        });
        await abortable(dashboard.start(), signal);
        io.out.write(`dashboard: ${dashboard.url}\n`);
        await stopped;
        return 0;
      } finally {
        await dashboard?.stop();
        kube.close();
      }
    });
  },
};
