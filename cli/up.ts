import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Applier, sortForApply } from '../apply/index.js';
import { Dashboard } from '../dashboard/server.js';
import { dashboardProvenance, type DashboardProvenance } from './dashboard-provenance.js';
import { messageOf } from '../lib/errors.js';
import { createLogger } from '../lib/log.js';
import { parse } from './args.js';
import { CUE_ENGINE_OPTIONS, cueEngineOptions, cueEngineUsage } from './cue-engine.js';
import { abortable, runUntilStopped, shutdownTimeout } from './lifecycle.js';
import { UsageError, type Command } from './command.js';
import { followApplications } from './apply.js';
import { LocalStack } from './local-stack.js';
import { readManifests } from './manifests.js';

const usage = `trellis up — a local Kubernetes control plane with Trellis running inside it

Usage: trellis up [path ...] [options]

Starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and a simulated node (built
from source with Go on first use — progress is printed), installs the CRDs, runs the Trellis
controllers and admission webhook in this process, writes a kubeconfig and prints the
\`export KUBECONFIG=...\` line. Files or folders given are applied once everything is up, and
the ApplicationConfigurations among them followed until they are Synced and Ready.
Ctrl-C stops everything; the cluster's data stays in the data folder for the next run.

Options:
  --data-dir <dir>        where the cluster keeps its data (default: $XDG_DATA_HOME/trellis/up,
                          i.e. ~/.local/share/trellis/up)
  --nodes <n>             simulated nodes for ordinary workloads (default 1)
  --functions-port <p>    port Functions answer on (default 8080, another one if taken or 0): a
                          local router sends a warm Function's requests to its instances, others to
                          the activator; handlers run as local processes, relative folders from here
  --dashboard-port <p>    port of the web dashboard on 127.0.0.1 (default 0: any free port)
  --no-dashboard          do not start the dashboard (\`trellis dashboard\` starts one later)
  --log-level <level>     level of the log written to <data-dir>/trellis.log (default info)
${cueEngineUsage(26)}
  --shutdown-timeout <s>  seconds to stop after SIGTERM/SIGINT before exiting anyway (default 1.5); the
                          cluster's processes stop on their own after that`;

/** How long `trellis up` waits for the applications it applied before it says it is up anyway. */
const APPS_TIMEOUT_SECONDS = 300;

export const upCommand: Command = {
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      'data-dir': { type: 'string' },
      nodes: { type: 'string' },
      'functions-port': { type: 'string' },
      'dashboard-port': { type: 'string' },
      'no-dashboard': { type: 'boolean' },
      'log-level': { type: 'string' },
      ...CUE_ENGINE_OPTIONS,
      'shutdown-timeout': { type: 'string' },
    });
    const nodes = values.nodes === undefined ? 1 : Number(values.nodes);
    if (!Number.isInteger(nodes) || nodes < 0)
      throw new UsageError(`--nodes must be a whole number, got "${values.nodes}"`);
    const functionsPort = values['functions-port'] === undefined ? undefined : Number(values['functions-port']);
    if (functionsPort !== undefined && (!Number.isInteger(functionsPort) || functionsPort < 0 || functionsPort > 65535))
      throw new UsageError(`--functions-port must be a port number, got "${values['functions-port']}"`);
    const dashboardPort = Number(values['dashboard-port'] ?? 0);
    if (!Number.isInteger(dashboardPort) || dashboardPort < 0 || dashboardPort > 65535)
      throw new UsageError(`--dashboard-port must be a port number, got "${values['dashboard-port']}"`);
    const dataDir = path.resolve(
      io.cwd,
      values['data-dir'] ??
        path.join(io.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share'), 'trellis', 'up'),
    );
    // Read what to apply before starting anything, so a typo fails in a second, not after the build.
    const manifests = positionals.length ? await readManifests(positionals, io.cwd) : [];

    await mkdir(dataDir, { recursive: true });
    const logFile = path.join(dataDir, 'trellis.log');
    const logger = createLogger({
      name: 'up',
      level: values['log-level'] ?? 'info',
      destination: createWriteStream(logFile, { flags: 'a' }),
    });
    const started = Date.now();
    const say = (line: string) => io.err.write(`[up] ${line}\n`);
    const cue = cueEngineOptions(values['cue-engine'], io);
    const stack = new LocalStack({
      dataDir,
      nodes,
      env: io.env,
      logger,
      say,
      root: io.cwd,
      cue,
      ...(functionsPort !== undefined ? { functionsPort } : {}),
    });

    return runUntilStopped(
      io,
      { logger, shutdownMs: shutdownTimeout(values['shutdown-timeout']) },
      async ({ signal, stopped }) => {
        let dashboard: Dashboard | undefined;
        let rendering: DashboardProvenance | undefined;
        try {
          await abortable(stack.start(), signal);
          if (!values['no-dashboard']) {
            // As the cluster's admin (the kubeconfig printed below): a local, single-user cluster.
            dashboard = new Dashboard({
              kube: stack.client,
              logger: logger.child({ name: 'dashboard' }),
              port: dashboardPort,
              activatorMetrics: () => stack.activatorMetrics(),
              provenance: (rendering ??= dashboardProvenance(stack.client, cue)).provenance,
            });
            await abortable(dashboard.start(), signal);
          }
          if (manifests.length) {
            say(`applying ${manifests.length} object(s) from ${positionals.join(', ')}`);
            const apps = [];
            const applier = new Applier({ kube: stack.client });
            for (const object of sortForApply(manifests.map((m) => structuredClone(m.object)))) {
              const info = await abortable(stack.client.resource(object.apiVersion, object.kind), signal);
              if (info.namespaced && !object.metadata.namespace) object.metadata.namespace = 'default';
              const [result] = await abortable(applier.applyForPerson([object]), signal);
              if (result?.refusal) {
                say(`  not applied: ${result.refusal.message}`);
                continue;
              }
              say(`  applied ${object.kind}/${object.metadata.name}`);
              if (object.kind === 'ApplicationConfiguration' && object.apiVersion.startsWith('core.oam.dev/'))
                apps.push(object);
            }
            // Up means the applications are running too: a request right after this line reaches them.
            if (apps.length) {
              say(`waiting for ${apps.length} ApplicationConfiguration(s) to be Synced and Ready`);
              const following = followApplications(stack.client, apps, APPS_TIMEOUT_SECONDS, (line) =>
                say(`  ${line}`),
              ).catch((err: unknown) =>
                say(`warning: ${messageOf(err)} — Trellis stays up; \`trellis status\` shows more`),
              );
              await abortable(following, signal);
            }
          }
          say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s — logs in ${logFile}`);
          io.out.write(
            `\nTrellis is up. In another terminal:\n\n  export KUBECONFIG=${stack.kubeconfig}\n  kubectl get appconfig,comp,fn -A\n\nFunctions answer at ${stack.functionsUrl} (Host <name>.<namespace>.fn.localhost, or path /<namespace>/<name>/).\n${dashboard ? `\nDashboard: ${dashboard.url}\n` : ''}\nPress Ctrl-C to stop (the cluster's data stays in ${dataDir}).\n`,
          );
          say(`${await stopped}: stopping`);
          return 0;
        } catch (err) {
          if (signal.aborted) say('interrupted: stopping');
          throw err;
        } finally {
          const stopping = Date.now();
          // At once: the shutdown timeout (1.5 s) covers both.
          await Promise.all([dashboard?.stop(), rendering?.stop(), stack.stop()]);
          say(`stopped in ${((Date.now() - stopping) / 1000).toFixed(1)} s`);
        }
      },
    );
  },
};
