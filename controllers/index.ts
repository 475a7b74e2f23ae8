import type { CueEngineOptions } from '../cue/index.js';
import { registerGitOps, type GitOpsOptions, type GitOpsParts } from '../gitops/index.js';
import type { Manager } from '../runtime/index.js';
import {
  registerActivator,
  registerFunctionController,
  registerServerless,
  type ServerlessOptions,
  type ServerlessParts,
} from '../serverless/register.js';
import { registerAppConfigController } from './appconfig/index.js';
import { registerApplicationController } from './application/index.js';
import { registerComponentController } from './component/index.js';
import { registerContainerizedWorkloadController } from './containerizedworkload/index.js';
import { registerHealthScopeController } from './healthscope/index.js';
import { registerManualScalerController } from './manualscaler/index.js';
import { registerRolloutController } from './rollout/index.js';

export interface ControllersOptions {
  /** Watch one namespace (every family; a family's own `namespace` wins). @default all namespaces */
  namespace?: string;
  /** Workers per controller (every family; a family's own `concurrency` wins). @default the manager's concurrency */
  concurrency?: number;
  /** The OAM controllers: Component, AppConfig, HealthScope, ManualScaler, ContainerizedWorkload, Rollout. @default true */
  oam?: boolean;
  /** GitSync (and its push receiver): what `trellis controller` runs beside the OAM controllers. @default off */
  gitops?: GitOpsOptions;
  /**
   * The scale-to-zero runtime (Function controllers, activator, autoscaler): what `trellis serverless` runs;
   * `functionController: false` leaves the Function controllers out (they run in `trellis controller`). @default off
   */
  serverless?: ServerlessOptions & { functionController?: boolean };
  /**
   * The Function controllers alone (Functions → revisions, Deployments, Services), without the
   * activator: what `trellis controller --function-controller` runs beside the OAM controllers. @default off
   */
  functions?: Parameters<typeof registerFunctionController>[1];
  /** Old Component revisions kept (referenced ones are always kept). @default 10 */
  revisionHistoryLimit?: number;
  /** Prometheus the `rollout` trait's analysis asks when it names none. @default none */
  prometheusAddress?: string;
  /** The AppConfig controller's CUE engine: which one, where the native evaluator comes from. @default auto */
  cue?: CueEngineOptions;
  /** The activators' `/metrics` (URLs, or a function answering their text) for functions' `activator` measures. @default none */
  activatorMetrics?: string[] | (() => Promise<string[]>);
  /** The Trellis version, part of every render fingerprint (an upgrade re-renders). @default '' */
  version?: string;
}

/** What was registered, of the families that hand something back (the receiver, the activator). */
export interface RegisteredControllers {
  gitops?: GitOpsParts;
  serverless?: ServerlessParts;
}

/**
 * Registers Trellis' controllers on one manager: THE list of controller families. `trellis
 * controller` registers the OAM controllers and GitOps (and the Function controllers with
 * `--function-controller`), `trellis serverless` (cli/serverless-runtime.ts)
 * the serverless runtime, `trellis up` all three. A new controller or family adds its line here.
 *
 * @example
 *   const mgr = new Manager({ kube, logger, leaderElection: { namespace: 'trellis-system' } })
 *   registerControllers(mgr, { concurrency: 8, gitops: { cacheDir: '/var/cache/trellis/git' } })
 *   await mgr.start()
 */
export function registerControllers(mgr: Manager, options: ControllersOptions = {}): RegisteredControllers {
  const common = {
    ...(options.namespace ? { namespace: options.namespace } : {}),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  };
  const registered: RegisteredControllers = {};
  if (options.oam !== false) registerOam(mgr, options, common);
  if (options.gitops) registered.gitops = registerGitOps(mgr, { ...common, ...options.gitops });
  if (options.serverless) {
    const { functionController, ...serverless } = options.serverless;
    const register = functionController === false ? registerActivator : registerServerless;
    registered.serverless = register(mgr, { ...common, ...serverless });
  }
  if (options.functions) registerFunctionController(mgr, { ...common, ...options.functions });
  return registered;
}

function registerOam(
  mgr: Manager,
  options: ControllersOptions,
  common: { namespace?: string; concurrency?: number },
): void {
  registerComponentController(mgr, {
    ...common,
    ...(options.revisionHistoryLimit !== undefined ? { revisionHistoryLimit: options.revisionHistoryLimit } : {}),
  });
  registerAppConfigController(mgr, {
    ...common,
    ...(options.cue ? { cue: options.cue } : {}),
    ...(options.version ? { version: options.version } : {}),
  });
  registerApplicationController(mgr, { ...common, ...(options.cue ? { cue: options.cue } : {}) });
  registerHealthScopeController(mgr, common);
  registerManualScalerController(mgr, common);
  registerContainerizedWorkloadController(mgr, common);
  registerRolloutController(mgr, {
    ...common,
    ...(options.prometheusAddress ? { prometheusAddress: options.prometheusAddress } : {}),
    ...(options.activatorMetrics ? { activatorMetrics: options.activatorMetrics } : {}),
  });
}
