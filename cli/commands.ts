import type { CommandSpec } from './command.js';

/**
 * Every subcommand, in the order `trellis --help` lists them (grouped). A command's module is
 * imported only when it runs: to add one, write `cli/<name>.ts` exporting a `Command` and add one
 * line here — never import a command module from another place at the top level.
 */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'render',
    group: 'Applications',
    summary: 'print the objects ApplicationConfigurations render to, offline',
    load: async () => (await import('./render.js')).renderCommand,
  },
  {
    name: 'apply',
    group: 'Applications',
    summary: 'server-side apply manifests and follow the ApplicationConfigurations until Synced and Ready',
    load: async () => (await import('./apply.js')).applyCommand,
  },
  {
    name: 'diff',
    group: 'Applications',
    summary: 'show what applying files would change on the cluster, field by field, with what set each field',
    load: async () => (await import('./diff.js')).diffCommand,
  },
  {
    name: 'ls',
    group: 'Applications',
    summary: 'list ApplicationConfigurations with whether each is synced and ready (-A: every namespace)',
    load: async () => (await import('./ls.js')).lsCommand,
  },
  {
    name: 'status',
    group: 'Applications',
    summary: 'show an ApplicationConfiguration: conditions, components with revisions, traits and health',
    load: async () => (await import('./status.js')).statusCommand,
  },
  {
    name: 'tree',
    group: 'Applications',
    summary: 'show an ApplicationConfiguration as a tree: components, workloads, traits, children, with health',
    load: async () => (await import('./tree.js')).treeCommand,
  },
  {
    name: 'events',
    group: 'Applications',
    summary: 'list the Events of an ApplicationConfiguration and its objects, oldest first',
    load: async () => (await import('./events.js')).eventsCommand,
  },
  {
    name: 'logs',
    group: 'Applications',
    summary:
      "print the logs of an ApplicationConfiguration's pods (and local Function instances), prefixed pod/container",
    load: async () => (await import('./logs.js')).logsCommand,
  },
  {
    name: 'revisions',
    group: 'Applications',
    summary: "list a Component's or KubeVela Application's revisions with their age and a diff against the current one",
    load: async () => (await import('./revisions.js')).revisionsCommand,
  },
  {
    name: 'rollback',
    group: 'Applications',
    summary:
      "pin an AppConfig's component to an earlier revision, or restore an Application's revision (default: the previous one)",
    load: async () => (await import('./rollback.js')).rollbackCommand,
  },
  {
    name: 'rollout',
    group: 'Applications',
    summary: "follow and steer a component's rollout: status, promote, abort, pause, resume",
    load: async () => (await import('./rollout.js')).rolloutCommand,
  },
  {
    name: 'reconcile',
    group: 'Applications',
    summary: 'reconcile an ApplicationConfiguration, Application or GitSync now and wait until it has',
    load: async () => (await import('./suspend.js')).reconcileCommand,
  },
  {
    name: 'suspend',
    group: 'Applications',
    summary: 'stop reconciling an application or GitSync: nothing applied, pruned or corrected until resumed',
    load: async () => (await import('./suspend.js')).suspendCommand,
  },
  {
    name: 'resume',
    group: 'Applications',
    summary: 'reconcile a suspended application or GitSync again, now',
    load: async () => (await import('./suspend.js')).resumeCommand,
  },
  {
    name: 'fn',
    group: 'Functions',
    summary: 'serverless Functions: `fn list`, `fn describe <fn>` (revisions, scaling, Events), `fn invoke <fn>`',
    load: async () => (await import('./fn.js')).fnCommand,
  },
  {
    name: 'def',
    group: 'Definitions',
    summary: 'work with definitions: `def list`, `def show <type>` (parameters), `def vet <file>` (check one)',
    load: async () => (await import('./def.js')).defCommand,
  },
  {
    name: 'sync',
    group: 'GitOps',
    summary: 'apply a folder or Git repository to a namespace (plan, apply, prune); `sync status` shows syncs',
    load: async () => (await import('./sync.js')).syncCommand,
  },
  {
    name: 'up',
    group: 'Run Trellis',
    summary: 'start a local control plane with Trellis inside, optionally applying files',
    load: async () => (await import('./up.js')).upCommand,
  },
  {
    name: 'dashboard',
    group: 'Run Trellis',
    summary: 'serve a web view of applications, components, workloads, traits and Events, updated live',
    load: async () => (await import('./dashboard.js')).dashboardCommand,
  },
  {
    name: 'controller',
    group: 'Run Trellis',
    summary: 'run the controllers (ApplicationConfiguration, Component revisions, HealthScope, ...)',
    load: async () => (await import('./controller.js')).controllerCommand,
  },
  {
    name: 'webhook',
    group: 'Run Trellis',
    summary: 'serve the admission webhooks (shorthand mutation, validation) over HTTPS',
    load: async () => (await import('./webhook.js')).webhookCommand,
  },
  {
    name: 'serverless',
    group: 'Run Trellis',
    summary: 'run the serverless runtime (activator + autoscaler), optionally with local handler processes',
    load: async () => (await import('./serverless.js')).serverlessCommand,
  },
  {
    name: 'queue-proxy',
    group: 'Run Trellis',
    summary: "the sidecar in a Function's pods on the kubernetes backend: meters direct requests, enforces the timeout",
    load: async () => (await import('./queue-proxy.js')).queueProxyCommand,
  },
  {
    name: 'check',
    group: 'Run Trellis',
    summary: 'check that Trellis can be installed (--pre: kubeconfig, API server, rights, CUE) or is healthy',
    load: async () => (await import('./check.js')).checkCommand,
  },
  {
    name: 'version',
    group: 'Other',
    summary: 'print the Trellis version and the Kubernetes version of the cluster it talks to',
    load: async () => (await import('./version.js')).versionCommand,
  },
  {
    name: 'completion',
    group: 'Other',
    summary: 'print a shell completion script: bash, zsh or fish',
    load: async () => (await import('./completion.js')).completionCommand,
  },
];

/** The command of that name, or undefined. */
export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
