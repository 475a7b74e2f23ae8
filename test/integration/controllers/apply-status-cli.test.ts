import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { testCluster } from '../../support/cluster.js';
import { trellis } from '../../support/cli.js';
import { useControllers } from '../../support/controllers.js';
import { useNamespace } from '../../support/namespace.js';

describe('cli: trellis apply / trellis status', () => {
  const ns = useNamespace();
  useControllers(ns);
  let dir = '';
  beforeEach(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'trellis-apply-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const k = () => ['--kubeconfig', testCluster().kubeconfig, '-n', ns.name];
  const component = {
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'Component',
    metadata: { name: 'web' },
    spec: {
      workload: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', image: 'nginx' }] } },
        },
      },
      parameters: [{ name: 'image', fieldPaths: ['spec.template.spec.containers[0].image'] }],
    },
  };
  const app = (params: object[] = []) => ({
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'ApplicationConfiguration',
    metadata: { name: 'shop' },
    spec: {
      components: [
        {
          componentName: 'web',
          parameterValues: params,
          traits: [{ trait: { name: 'expose', properties: { ports: [{ port: 80 }] } } }],
        },
      ],
    },
  });

  it('applies the files, follows the AppConfig to Synced and Ready, and status shows it as a table', async () => {
    await writeFile(path.join(dir, 'component.yaml'), stringify(component));
    await writeFile(path.join(dir, 'app.yaml'), stringify(app([{ name: 'image', value: 'nginx:1.27' }])));
    const applied = await trellis(['apply', '-f', dir, '--timeout', '120', ...k()]);
    assert.equal(applied.code, 0, applied.err);
    const lines = applied.out.trim().split('\n');
    assert.deepEqual(lines.slice(0, 2), [
      `Component/${ns.name}/web applied`,
      `ApplicationConfiguration/${ns.name}/shop applied`,
    ]);
    assert.equal(lines.at(-1), `ApplicationConfiguration/${ns.name}/shop: Synced=True Ready=True`);

    const status = await trellis(['status', 'shop', ...k()]);
    assert.equal(status.code, 0, status.err);
    assert.match(
      status.out,
      new RegExp(`^ApplicationConfiguration ${ns.name}/shop  \\(running; generation 1, observed 1\\)`),
    );
    assert.match(status.out, /\nSynced\s+True\s+Applied\s+\d+s\s+2 objects applied\n/);
    assert.match(status.out, /\nReady\s+True\s+Healthy\s+\d+s\s+1 workload healthy\n/);
    assert.match(
      status.out,
      /\nCOMPONENT\s+REVISION\s+WORKLOAD\s+HEALTH\s+TRAITS\s+SCOPES\nweb\s+web-v1\s+Deployment\/web\s+healthy: 2\/2 ready\s+Service\/web-expose \(healthy\)\s+-\n/,
    );
  });

  it('fails with exit 1 and the render error when an AppConfig cannot be rendered', async () => {
    await writeFile(
      path.join(dir, 'all.yaml'),
      `${stringify(component)}---\n${stringify(app([{ name: 'colour', value: 'red' }]))}`,
    );
    const r = await trellis(['apply', '-f', path.join(dir, 'all.yaml'), '--timeout', '60', ...k()]);
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      new RegExp(
        `^error: \\[TRL_APPLY_WAIT\\] ApplicationConfiguration/${ns.name}/shop: \\[TRL_RENDER_PARAMETER_UNKNOWN\\] .*"colour"`,
      ),
    );
    assert.doesNotMatch(r.err, /\n\s+at /);
  });

  it('names the AppConfig and its last state when it is not Ready in time', async () => {
    const unschedulable = structuredClone(component);
    (unschedulable.spec.workload.spec.template.spec.containers[0] as Record<string, unknown>).resources = {
      requests: { cpu: '1000' },
    };
    await writeFile(path.join(dir, 'all.yaml'), `${stringify(unschedulable)}---\n${stringify(app())}`);
    const r = await trellis(['apply', '-f', dir, '--timeout', '3', ...k()]);
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /\[TRL_APPLY_WAIT\] .*shop: not Synced and Ready within 3 s: .*(waiting for the controller|Ready=False)/,
    );
  });

  it('status of an unknown AppConfig is an error naming it', async () => {
    const r = await trellis(['status', 'nope', ...k()]);
    assert.equal(r.code, 1);
    assert.equal(
      r.err,
      `error: [TRL_STATUS_NOT_FOUND] ApplicationConfiguration/${ns.name}/nope: no such ApplicationConfiguration\n`,
    );
  });
});
