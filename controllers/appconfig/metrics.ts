import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { isSuspended } from '../../apis/labels.js';
import type { CueEngine } from '../../cue/index.js';
import type { Informer } from '../../kube/index.js';
import type { ApplicationConfiguration } from '../types.js';

const conditionStatus = (app: ApplicationConfiguration, type: string): string =>
  app.status?.conditions?.find((c) => c.type === type)?.status ?? 'Unknown';

/**
 * `trellis_application_info{namespace,name,synced,ready,suspended} 1` for every ApplicationConfiguration
 * the controller watches (as Argo CD's `argocd_app_info` and Flux's `gotk_resource_info`): read from the
 * informer's cache at each scrape, so it costs nothing between scrapes and never lags the cache.
 *
 * @example
 *   count by (namespace) (trellis_application_info{ready="False"})   # unready applications
 */
export function registerApplicationInfo(
  registry: Registry,
  apps: Pick<Informer<ApplicationConfiguration>, 'list'>,
): void {
  new Gauge({
    name: 'trellis_application_info',
    help: 'One series per ApplicationConfiguration (always 1): its Synced and Ready status, whether it is suspended.',
    labelNames: ['namespace', 'name', 'synced', 'ready', 'suspended'],
    registers: [registry],
    collect() {
      this.reset();
      for (const app of apps.list()) {
        this.set(
          {
            namespace: app.metadata.namespace ?? '',
            name: app.metadata.name ?? '',
            synced: conditionStatus(app, 'Synced'),
            ready: conditionStatus(app, 'Ready'),
            suspended: String(isSuspended(app)),
          },
          1,
        );
      }
    },
  });
}

/**
 * The re-sync's own counters (docs/adr/0008-resync-without-rendering.md), in the manager's registry:
 *
 * | metric | labels |
 * |---|---|
 * | `trellis_cue_evaluations_total` | — (evaluations CUE performed; answers from the engine's cache are not counted) |
 * | `trellis_appconfig_renders_total` | result: `rendered` or `skipped`; reason: why it rendered (`RenderReason`) |
 * | `trellis_appconfig_reconcile_phase_seconds` | phase: where a reconcile's wall time went ({@link ReconcilePhase}) |
 * | `trellis_appconfig_own_write_events_total` | — (children's watch events that were this controller's own vouched writes, dropped) |
 */
export function appConfigMetrics(
  registry: Registry,
  engine: CueEngine,
): { renders: Counter<'result' | 'reason'>; phases: Histogram<'phase'>; ownWriteEvents: Counter } {
  let reported = 0;
  new Counter({
    name: 'trellis_cue_evaluations_total',
    help: 'CUE evaluations the engine performed (cache hits not counted).',
    registers: [registry],
    collect() {
      const now = engine.stats.evaluated;
      if (now > reported) this.inc(now - reported);
      reported = now;
    },
  });
  const renders = new Counter({
    name: 'trellis_appconfig_renders_total',
    help: 'AppConfig reconciles by whether they rendered (and why) or skipped (inputs and children unchanged).',
    labelNames: ['result', 'reason'],
    registers: [registry],
  });
  const phases = new Histogram({
    name: 'trellis_appconfig_reconcile_phase_seconds',
    help: 'Wall time of each phase of an AppConfig reconcile (check: inputs and children against the fingerprint).',
    labelNames: ['phase'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const ownWriteEvents = new Counter({
    name: 'trellis_appconfig_own_write_events_total',
    help: "Children's watch events carrying the very version this controller wrote and vouched for: dropped, no reconcile.",
    registers: [registry],
  });
  return { renders, phases, ownWriteEvents };
}

/**
 * The phases of an AppConfig reconcile, in order: `check` (render inputs and children against the
 * recorded fingerprint; a skipped reconcile ends here), `render`, `gate` (kinds watched, data
 * dependencies), `apply`, `prune` (and scopes), `health`, `status` (Events and the status write).
 */
export type ReconcilePhase = 'check' | 'render' | 'gate' | 'apply' | 'prune' | 'health' | 'status';
