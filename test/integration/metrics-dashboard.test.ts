/**
 * The chart's Grafana dashboard and alert rules against what `trellis controller` really exports: every
 * query must name a metric the running controller serves, and docs/metrics.md must list each of them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../controlplane/index.js';
import { renderChart } from '../support/chart.js';
import { testCluster } from '../support/cluster.js';
import { eventually, useNamespace } from '../support/namespace.js';
import { isExported, metricFamilies, metricNames } from '../support/promql.js';
import { startTrellis, type RunningCommand } from '../support/trellis-cli.js';

const DASHBOARD = path.join(packageRoot(), 'charts', 'trellis', 'files', 'grafana', 'trellis-controller.json');

/** Every PromQL string in a Grafana dashboard: panel targets and query variables. */
function dashboardQueries(dashboard: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown, key = ''): void => {
    if (Array.isArray(v)) v.forEach((x) => walk(x));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
    else if (typeof v === 'string' && (key === 'expr' || key === 'definition'))
      out.push(v.replace(/^label_values\(([^,]+),.*\)$/, '$1'));
  };
  walk(dashboard);
  return out;
}

describe('metrics: dashboard and alerts ⊆ what the controller exports', () => {
  const ns = useNamespace();
  let controller: RunningCommand & { match: RegExpMatchArray };
  let families: Map<string, string>;
  ns.beforeDelete.push(async () => {
    controller?.child.kill('SIGTERM');
    await controller?.exited;
  });

  beforeEach(async () => {
    const { kube, controllerKubeconfig } = testCluster();
    await kube.apply({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ApplicationConfiguration',
      metadata: { name: 'empty', namespace: ns.name },
      spec: { components: [] },
    });
    const lease = [
      '--leader-elect',
      '--leader-election-namespace',
      'trellis-system',
      '--leader-election-id',
      `trellis-metrics-${ns.name}`,
    ];
    controller = await startTrellis(
      [
        'controller',
        '--kubeconfig',
        controllerKubeconfig,
        '--namespace',
        ns.name,
        '--health-addr',
        '127.0.0.1:0',
        '--log-level',
        'warn',
        ...lease,
      ],
      /^trellis controller running as \S+ \(health and metrics on 127\.0\.0\.1:(\d+)\)/,
    );
    const url = `http://127.0.0.1:${controller.match[1]}/metrics`;
    const text = await eventually(
      async () => {
        const t = await (await fetch(url)).text();
        return (
          /^trellis_application_info\{.*name="empty".*\} 1$/m.test(t) &&
          /^leader_election_master_status\{.*\} 1$/m.test(t) &&
          t
        );
      },
      { what: 'the application and the leader in /metrics' },
    );
    families = metricFamilies(text);
  });

  it('reads metric names out of PromQL (the check below can fail)', () => {
    assert.deepEqual(
      metricNames(
        'histogram_quantile(0.99, sum by (le, controller) (rate(foo_bucket{a="b"}[$__rate_interval]))) / bar or vector(0)',
      ),
      ['foo_bucket', 'bar'],
    );
    assert.equal(isExported('workqueue_depth_bucket', families), false, 'a gauge has no buckets');
    assert.equal(isExported('no_such_metric', families), false);
  });

  it('serves the runtime metrics under controller-runtime and client-go names, build info and the application gauge', () => {
    for (const name of [
      'controller_runtime_reconcile_total',
      'controller_runtime_reconcile_errors_total',
      'controller_runtime_reconcile_time_seconds',
      'workqueue_depth',
      'workqueue_adds_total',
      'workqueue_queue_duration_seconds',
      'workqueue_work_duration_seconds',
      'workqueue_retries_total',
      'rest_client_requests_total',
      'rest_client_request_duration_seconds',
      'leader_election_master_status',
      'trellis_build_info',
      'trellis_application_info',
      'trellis_gitsync_syncs_total',
    ]) {
      assert.ok(families.has(name), `${name} is exported`);
    }
    assert.equal(
      // The old copies were trellis_reconcile_*, trellis_workqueue_*, …; domain metrics such as
      // trellis_appconfig_reconcile_phase_seconds (time per phase, no standard name) are not copies.
      [...families.keys()].filter((n) => /^trellis_(reconcile|workqueue|kube_requests|leader)/.test(n)).length,
      0,
      'no trellis_ copies of the standard names',
    );
  });

  it('has the Grafana dashboard query only exported metrics', () => {
    const queries = dashboardQueries(JSON.parse(readFileSync(DASHBOARD, 'utf8')));
    assert.ok(queries.length >= 20, `the dashboard has queries (${queries.length})`);
    const unknown = queries.flatMap((q) =>
      metricNames(q)
        .filter((n) => !isExported(n, families))
        .map((n) => `${n} in ${q}`),
    );
    assert.deepEqual(unknown, []);
  });

  it("has the chart's PrometheusRule and dashboard ConfigMap use only exported metrics", async () => {
    const objects = await renderChart(testCluster().helm, {
      'prometheusRule.enabled': true,
      'grafana.dashboards.enabled': true,
    });
    const rule = objects.find((o) => o.kind === 'PrometheusRule') as unknown as {
      spec: { groups: { rules: { alert: string; expr: string }[] }[] };
    };
    const rules = rule.spec.groups.flatMap((g) => g.rules);
    assert.ok(rules.length >= 5);
    const unknown = rules.flatMap((r) =>
      metricNames(r.expr)
        .filter((n) => !isExported(n, families))
        .map((n) => `${n} in ${r.alert}`),
    );
    assert.deepEqual(unknown, []);
    const configMap = objects.find(
      (o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1',
    ) as unknown as { data: Record<string, string> };
    assert.deepEqual(
      JSON.parse(configMap.data['trellis-controller.json']!),
      JSON.parse(readFileSync(DASHBOARD, 'utf8')),
    );
  });

  it('lists every metric the controller exports in docs/metrics.md', () => {
    const doc = readFileSync(path.join(packageRoot(), 'docs', 'metrics.md'), 'utf8');
    const missing = [...families.keys()].filter((n) => !/^(process|nodejs)_/.test(n) && !doc.includes(`\`${n}\``));
    assert.deepEqual(missing, []);
  });
});
