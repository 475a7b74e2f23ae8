import { registerControllers } from '../../controllers/index.js';
import { FIELD_MANAGER } from '../../controllers/field-managers.js';
import {
  ANNOTATION_ABORT,
  attemptToken,
  HTTP_ROUTE,
  ROLLOUT_API_VERSION,
  routeWeights,
  type Rollout,
} from '../../controllers/rollout/index.js';
import { Informer, KubeClient, type KubeObject } from '../../kube/index.js';
import { silentLogger } from '../../lib/log.js';
import { Manager } from '../../runtime/index.js';
import type { TestCluster } from '../../test/support/cluster.js';
import { serveMetrics, startPrometheus } from '../../test/support/prometheus.js';

export interface RollbackOptions {
  /** Cycles of each kind (rolled back by analysis, aborted by a person). */
  cycles: number;
  /** Prometheus' scrape interval and the analysis' interval. */
  interval: string;
  progress: (line: string) => void;
}

/** One cycle, from the moment the new revision's counters turned bad (or the abort was written), in ms. */
export interface RollbackSample {
  kind: 'analysis' | 'abort';
  /** Prometheus answers the bad success rate (polled every 10 ms); analysis cycles only. */
  promMs?: number;
  /** The Rollout's status says RolledBack / Aborted. */
  statusMs: number;
  /** The HTTPRoute sends all traffic to the stable revision again (what a gateway reads). */
  routeMs: number;
}

const NS = 'bench-rollout';
const OAM = 'core.oam.dev/v1alpha2';
const QUERY = (revision: string) =>
  `sum(http_requests_total{revision="${revision}",code!~"5.."}) / sum(http_requests_total{revision="${revision}"})`;

/**
 * Time to rollback, on the real test control plane with every controller in this process (as the
 * chart's ServiceAccount) and a real Prometheus scraping counters served here: a webservice with
 * the `rollout` trait (one step, 20 %, until promoted, analysis `success-rate >= 0.95` every
 * `interval`) gets a new revision per cycle; once its analysis passed, its counters turn bad and
 * the clock runs until the HTTPRoute is back at 100 % stable. The reference, in the same run: the
 * same state, rolled back by a person (the abort annotation `trellis rollout abort` writes).
 */
export async function measureRollback(cluster: TestCluster, options: RollbackOptions): Promise<RollbackSample[]> {
  const { kube } = cluster;
  const metrics = await serveMetrics();
  const prometheus = await startPrometheus([metrics.target], options.interval);
  const controllerKube = await KubeClient.connect({
    kubeconfig: cluster.controllerKubeconfig,
    fieldManager: FIELD_MANAGER,
  });
  const manager = new Manager({ kube: controllerKube, logger: silentLogger, concurrency: 2, gracefulShutdownMs: 5000 });
  registerControllers(manager, { namespace: NS });
  const rollouts = new Informer<Rollout>(kube, {
    apiVersion: ROLLOUT_API_VERSION,
    kind: 'Rollout',
    namespace: NS,
    resyncMs: 0,
  });
  const routes = new Informer<KubeObject>(kube, { ...HTTP_ROUTE, namespace: NS, resyncMs: 0 });
  const counters = (revision: string, ok: number, failed: number) => {
    metrics.set('http_requests_total', { revision, code: '200' }, ok);
    metrics.set('http_requests_total', { revision, code: '500' }, failed);
  };
  try {
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await manager.start();
    await Promise.all([rollouts.start(), routes.start()]);
    const rollout = () => rollouts.get('web-rollout', NS);
    const allStable = (stable: string) => {
      const w = routes.get('web', NS);
      return !!w && JSON.stringify(routeWeights(w)) === JSON.stringify([{ revision: stable, weight: 100 }]);
    };
    const component = (n: number) => ({
      apiVersion: OAM,
      kind: 'Component',
      metadata: { name: 'web', namespace: NS },
      spec: { workload: { type: 'webservice', properties: { image: `nginx:1.${n}` } } },
    });
    const analysis = {
      interval: options.interval,
      prometheus: { address: prometheus.url },
      metrics: [{ name: 'success-rate', query: QUERY('{{revision}}'), min: 0.95 }],
    };
    await kube.apply(component(0));
    await kube.apply({
      apiVersion: OAM,
      kind: 'ApplicationConfiguration',
      metadata: { name: 'shop', namespace: NS },
      spec: {
        components: [
          {
            componentName: 'web',
            traits: [{ trait: { name: 'rollout', properties: { steps: [{ weight: 20, pause: {} }], analysis } } }],
          },
        ],
      },
    });
    await until(() => rollout()?.status?.phase === 'Healthy' && allStable('web-v1'), 'web-v1 stable');

    const samples: RollbackSample[] = [];
    for (let i = 0; i < 2 * options.cycles; i++) {
      const kind = i % 2 === 0 ? 'analysis' : 'abort';
      const revision = `web-v${i + 2}`;
      counters(revision, 100, 0);
      await kube.apply(component(i + 1));
      await until(() => {
        const s = rollout()?.status;
        return (
          s?.canaryRevision === revision && s.phase === 'Paused' && s.analysis?.results?.[0]?.phase === 'Successful'
        );
      }, `${revision} at 20 % with a passing measurement`);
      const t0 = performance.now();
      const since = (done: () => boolean) =>
        until(done, `${revision} back to web-v1`).then(() => performance.now() - t0);
      const status = since(() => rollout()?.status?.phase === (kind === 'analysis' ? 'RolledBack' : 'Aborted'));
      const route = since(() => allStable('web-v1'));
      let prom: Promise<number> | undefined;
      if (kind === 'analysis') {
        counters(revision, 100, 100);
        prom = untilBad(prometheus.url, QUERY(revision)).then(() => performance.now() - t0);
      } else {
        const token = attemptToken(rollout()!.status)!;
        await kube.patch(
          { apiVersion: ROLLOUT_API_VERSION, kind: 'Rollout', name: 'web-rollout', namespace: NS },
          { metadata: { annotations: { [ANNOTATION_ABORT]: token } } },
          'merge',
        );
      }
      const sample: RollbackSample = {
        kind,
        statusMs: await status,
        routeMs: await route,
        ...(prom ? { promMs: await prom } : {}),
      };
      samples.push(sample);
      options.progress(
        `cycle ${i + 1}/${2 * options.cycles} (${kind}): route back after ${sample.routeMs.toFixed(0)} ms`,
      );
    }
    return samples;
  } finally {
    await Promise.all([rollouts.stop(), routes.stop()]);
    await manager.stop();
    controllerKube.close();
    await kube.delete({ apiVersion: 'v1', kind: 'Namespace', name: NS }).catch(() => undefined);
    await prometheus.stop();
    await metrics.close();
  }
}

/** Resolves once `done()` (a look at informer caches, so cheap) holds; checked every 2 ms. */
async function until(done: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Resolves once Prometheus answers `query` with a value below 0.95 (asked every 10 ms). */
async function untilBad(prometheus: string, query: string): Promise<void> {
  const deadline = performance.now() + 120_000;
  while (performance.now() < deadline) {
    const body = (await (await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(query)}`)).json()) as {
      data?: { result?: { value: [number, string] }[] };
    };
    const value = Number(body.data?.result?.[0]?.value[1]);
    if (value < 0.95) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`Prometheus never answered ${query} below 0.95`);
}
