import assert from 'node:assert/strict';
import { testCluster } from '../../support/cluster.js';
import { trellis } from '../../support/cli.js';
import { applyComponentRevision } from '../../support/components.js';
import { useControllers } from '../../support/controllers.js';
import { eventually, useNamespace } from '../../support/namespace.js';
import type { ApplicationConfiguration } from '../../../controllers/types.js';

describe('cli: trellis revisions / trellis rollback', () => {
  const ns = useNamespace();
  useControllers(ns);

  const component = (image: string) => ({
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'Component',
    metadata: { name: 'web', namespace: ns.name },
    spec: { workload: { apiVersion: 'v1', kind: 'ConfigMap', data: { image } } },
  });
  const app = () =>
    testCluster().kube.get<ApplicationConfiguration>({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ApplicationConfiguration',
      name: 'shop',
      namespace: ns.name,
    });

  /** web-v1..v3 (images a, b, c) and an AppConfig following web, next to another component. */
  beforeEach(async () => {
    const { kube } = testCluster();
    for (const [i, image] of ['a', 'b', 'c'].entries()) {
      await applyComponentRevision(kube, component(image), `web-v${i + 1}`);
    }
    await kube.apply({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ApplicationConfiguration',
      metadata: { name: 'shop', namespace: ns.name },
      spec: {
        components: [{ componentName: 'db' }, { componentName: 'web', parameterValues: [{ name: 'x', value: 1 }] }],
      },
    });
  });
  const k = () => ['--kubeconfig', testCluster().kubeconfig, '-n', ns.name];

  it('revisions lists newest first with ages and traffic (none here), and shows what a rollback to each would change', async () => {
    // shop's entry for web sets a parameter web does not declare: it runs no revision of web (traffic "-").
    await eventually(
      async () => (await app()).status?.conditions?.some((c) => c.type === 'Synced' && c.status === 'False'),
      { what: 'shop fails to render' },
    );
    const r = await trellis(['revisions', 'web', ...k()]);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n');
    assert.match(lines[0]!, /^REVISION\s+NAME\s+AGE\s+TRAFFIC\s+CHANGES AGAINST web-v3$/);
    assert.match(lines[1]!, /^3\s+web-v3\s+\d+s\s+-\s+current$/);
    assert.match(lines[2]!, /^2\s+web-v2\s+\d+s\s+-\s+1 field$/);
    assert.match(lines[3]!, /^1\s+web-v1\s+\d+s\s+-\s+1 field$/);
    assert.match(
      r.out,
      /rollback to web-v2 would change \(- web-v3, \+ web-v2\):\n  - spec\.workload\.data\.image: "c"\n  \+ spec\.workload\.data\.image: "b"/,
    );
  });

  it('rollback pins the previous revision, then the one before, keeping the rest of the entry; --to picks one', async () => {
    let r = await trellis(['rollback', 'shop', '--component', 'web', ...k()]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, `ApplicationConfiguration/${ns.name}/shop: component web pinned to web-v2 (was web-v3)\n`);
    assert.deepEqual((await app()).spec?.components, [
      { componentName: 'db' },
      { revisionName: 'web-v2', parameterValues: [{ name: 'x', value: 1 }] },
    ]);
    r = await trellis(['rollback', 'shop', '--component', 'web', ...k()]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /pinned to web-v1 \(was web-v2\)/);
    // The controller is reconciling the AppConfig (writing its status) meanwhile: a rollback re-reads on a conflict.
    r = await trellis(['rollback', 'shop', '--component', 'web', '--to', 'v3', ...k()]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /pinned to web-v3 \(was web-v1\)/);
    assert.equal((await app()).spec?.components?.[1]?.revisionName, 'web-v3');
  });

  it('fails with a clear message and exit 1 for an unknown component, revision, or nothing before v1', async () => {
    let r = await trellis(['rollback', 'shop', '--component', 'cart', ...k()]);
    assert.equal(r.code, 1);
    assert.equal(
      r.err,
      `error: [TRL_ROLLBACK_COMPONENT] ApplicationConfiguration/${ns.name}/shop: spec.components: no component "cart" (it has: db, web)\n`,
    );
    r = await trellis(['rollback', 'shop', '--component', 'web', '--to', 'web-v9', ...k()]);
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /\[TRL_ROLLBACK_REVISION\] .*spec\.components\[1\]: no revision "web-v9" of component "web" \(it has: web-v1, web-v2, web-v3\)/,
    );
    await trellis(['rollback', 'shop', '--component', 'web', '--to', '1', ...k()]);
    r = await trellis(['rollback', 'shop', '--component', 'web', ...k()]);
    assert.equal(r.code, 1);
    assert.match(r.err, /no revision before web-v1 is kept/);
    r = await trellis(['rollback', 'shop', ...k()]);
    assert.equal(r.code, 2, 'usage error');
    assert.match(r.err, /--component is required/);
  });
});
