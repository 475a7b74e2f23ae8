import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { KubeClient } from '../kube/index.js';
import { createLogger } from '../lib/log.js';
import { HealthServer } from '../runtime/index.js';
import {
  allHandlers,
  ensureLocalCertificates,
  startWebhookDeps,
  registerWebhooks,
  unregisterWebhooks,
  WebhookMetrics,
  WebhookServer,
} from '../webhooks/index.js';
import { parse } from './args.js';
import { kubeSource } from './kube-args.js';
import { abortable, runUntilStopped, shutdownTimeout, waitForApiServer } from './lifecycle.js';
import { buildInfo } from './build-info.js';
import { CUE_ENGINE_OPTIONS, cueEngineOptions, cueEngineUsage } from './cue-engine.js';
import { UsageError, type Command } from './command.js';

const usage = `trellis webhook — serve the admission webhooks (mutate shorthands, validate OAM objects)

Usage: trellis webhook (--cert-dir <dir> | --tls-cert-file <file> --tls-key-file <file>) [options]

Waits for the API server (logging each attempt, with backoff), then prints "listening on <port>" on
stdout once it serves. Stops on SIGTERM or SIGINT in any state; a second signal exits at once.

Options:
  --port <n>              HTTPS port, 0 picks a free one (default 9443)
  --bind-address <ip>     address to listen on (default 0.0.0.0)
  --tls-cert-file <file>  serving certificate (PEM), reloaded when it changes
  --tls-key-file <file>   its private key (PEM)
  --cert-dir <dir>        instead of the two above: use, or create, a local CA and a serving
                          certificate for localhost/127.0.0.1 in <dir> (ca.crt, tls.crt, tls.key)
  --register <url>        apply the webhook configurations pointing at <url> (e.g. https://127.0.0.1:9443)
                          with the CA of --cert-dir (or --ca-file); removed again on SIGINT/SIGTERM
  --ca-file <file>        CA bundle for --register
  --metrics-port <n>      also serve /healthz, /readyz and /metrics over plain HTTP on this port
                          (the runtime's health server, as \`trellis controller\` does; default off)
  --kubeconfig <file>     cluster to read definitions from (default: KUBECONFIG, ~/.kube/config, in-cluster)
  --context <name>        kubeconfig context (default: its current one)
  --log-level <level>     trace, debug, info, warn, error (default info)
${cueEngineUsage(26)}
  --shutdown-timeout <s>  seconds to finish after SIGTERM/SIGINT before exiting anyway (default 1.5)`;

export const webhookCommand: Command = {
  usage,
  async run(args, io) {
    const { values } = parseOptions(args);
    const cue = cueEngineOptions(values['cue-engine'], io);
    const logger = createLogger({
      name: 'webhook',
      level: values['log-level'] ?? io.env.TRELLIS_LOG_LEVEL ?? 'info',
      destination: io.err,
    });
    let tls: { certFile: string; keyFile: string };
    let caBundle: string | undefined;
    if (values['cert-dir']) {
      const local = await ensureLocalCertificates(path.resolve(io.cwd, values['cert-dir']));
      tls = local;
      caBundle = local.caBundle;
    } else if (values['tls-cert-file'] && values['tls-key-file']) {
      tls = {
        certFile: path.resolve(io.cwd, values['tls-cert-file']),
        keyFile: path.resolve(io.cwd, values['tls-key-file']),
      };
    } else {
      throw new UsageError('give --tls-cert-file and --tls-key-file, or --cert-dir');
    }
    if (values['ca-file']) caBundle = await readFile(path.resolve(io.cwd, values['ca-file']), 'utf8');
    if (values.register && !caBundle) throw new UsageError('--register needs the CA: use --cert-dir or --ca-file');
    const shutdownMs = shutdownTimeout(values['shutdown-timeout']);

    const kube = await KubeClient.connect({
      ...kubeSource(values, io),
      fieldManager: 'trellis-webhook',
      userAgent: 'trellis-webhook',
    });
    const metrics = new WebhookMetrics({ build: buildInfo() });
    kube.connection.observe(metrics.observeRequest);
    const cleanups: (() => Promise<unknown>)[] = [async () => kube.close()];
    let serving: WebhookServer | undefined;
    return runUntilStopped(io, { logger, shutdownMs }, async ({ signal, stopped }) => {
      try {
        // Health first, so probes answer (not ready) while the API server is awaited.
        if (values['metrics-port'] !== undefined) {
          const health = new HealthServer({
            host: values['bind-address'] ?? '0.0.0.0',
            port: Number(values['metrics-port']),
            registry: metrics.registry,
            readyz: { webhook: () => (serving?.port ?? 0) > 0 || 'not serving yet' },
          });
          await health.start();
          cleanups.push(() => health.stop());
        }
        await waitForApiServer(kube, logger, signal);
        const deps = await abortable(startWebhookDeps(kube, { logger, cue }), signal);
        cleanups.push(() => deps.stop());
        serving = new WebhookServer({
          handlers: allHandlers(deps),
          tls,
          host: values['bind-address'] ?? '0.0.0.0',
          port: Number(values.port ?? 9443),
          logger,
          metrics,
        });
        await serving.start();
        const server = serving;
        cleanups.push(() => server.stop());
        if (values.register) {
          await registerWebhooks(kube, { target: { url: values.register }, caBundle: caBundle! });
          cleanups.push(() =>
            unregisterWebhooks(kube).catch((err: Error) =>
              logger.warn({ err: err.message }, 'could not remove the webhook configurations'),
            ),
          );
          logger.info({ url: values.register }, 'webhook configurations registered');
        }
        io.out.write(`listening on ${server.port}\n`);
        await stopped;
        return 0;
      } finally {
        for (const cleanup of cleanups.reverse()) await cleanup();
      }
    });
  },
};

function parseOptions(args: string[]) {
  return parse(
    args,
    {
      port: { type: 'string' },
      'bind-address': { type: 'string' },
      'tls-cert-file': { type: 'string' },
      'tls-key-file': { type: 'string' },
      'cert-dir': { type: 'string' },
      register: { type: 'string' },
      'ca-file': { type: 'string' },
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      'metrics-port': { type: 'string' },
      'log-level': { type: 'string' },
      ...CUE_ENGINE_OPTIONS,
      'shutdown-timeout': { type: 'string' },
    },
    { positionals: false },
  );
}
