import { Gauge, type Registry } from 'prom-client';
import { isSuspended } from '../../apis/labels.js';
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
