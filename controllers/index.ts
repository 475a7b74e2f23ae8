import type { CueEngineOptions } from '../cue/index.js';
import type { Manager } from '../runtime/index.js';
import { registerAppConfigController } from './appconfig/index.js';
import { registerComponentController } from './component/index.js';
import { registerContainerizedWorkloadController } from './containerizedworkload/index.js';
import { registerHealthScopeController } from './healthscope/index.js';
import { registerManualScalerController } from './manualscaler/index.js';
import { registerRolloutController } from './rollout/index.js';

export interface ControllersOptions {
  /** Watch one namespace. @default all namespaces */
  namespace?: string;
  /** Workers per controller. @default the manager's concurrency */
  concurrency?: number;
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

/**
 * Registers every Trellis controller on one manager — what `trellis controller` runs. A new
 * controller family (serverless, GitOps) adds one `register...(mgr, options)` line here.
 *
 * @example
 *   const mgr = new Manager({ kube, logger, leaderElection: { namespace: 'trellis-system' } })
 *   registerControllers(mgr, { concurrency: 8 })
 *   await mgr.start()
 */
export function registerControllers(mgr: Manager, options: ControllersOptions = {}): void {
  const common = { ...(options.namespace ? { namespace: options.namespace } : {}), ...(options.concurrency ? { concurrency: options.concurrency } : {}) };
  registerComponentController(mgr, { ...common, ...(options.revisionHistoryLimit !== undefined ? { revisionHistoryLimit: options.revisionHistoryLimit } : {}) });
  registerAppConfigController(mgr, { ...common, ...(options.cue ? { cue: options.cue } : {}), ...(options.version ? { version: options.version } : {}) });
  registerHealthScopeController(mgr, common);
  registerManualScalerController(mgr, common);
  registerContainerizedWorkloadController(mgr, common);
  registerRolloutController(mgr, { ...common, ...(options.prometheusAddress ? { prometheusAddress: options.prometheusAddress } : {}), ...(options.activatorMetrics ? { activatorMetrics: options.activatorMetrics } : {}) });
}
