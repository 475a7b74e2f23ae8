import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { testCluster } from '../../support/cluster.js';
import { trellis } from '../../support/cli.js';
import { useControllers } from '../../support/controllers.js';
import { eventually, useNamespace } from '../../support/namespace.js';
import type { ApplicationConfiguration } from '../../../controllers/types.js';
import type { KubeObject } from '../../../kube/index.js';

describe('cli: trellis diff', () => {
  const ns = useNamespace();
  useControllers(ns);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-diff-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The README quickstart's `web` and `shop` (without the function), with the values given. */
  const files = (v: { image: string; replicas: number; trait?: string }) => {
    const file = path.join(dir, 'app.yaml');
    const docs = [
      {
        apiVersion: 'core.oam.dev/v1alpha2',
        kind: 'Component',
        metadata: { name: 'web', namespace: ns.name },
        spec: { workload: { type: 'webservice', properties: { image: v.image, port: 80 } } },
      },
      {
        apiVersion: 'core.oam.dev/v1alpha2',
        kind: 'ApplicationConfiguration',
        metadata: { name: 'shop', namespace: ns.name },
        spec: {
          components: [
            {
              componentName: 'web',
              traits: [
                { trait: { name: v.trait ?? 'scaler', properties: { replicas: v.replicas } } },
                { trait: { name: 'ingress', properties: { host: 'shop.localhost' } } },
              ],
            },
          ],
        },
      },
    ];
    writeFileSync(file, docs.map((d) => stringify(d)).join('---\n'));
    return file;
  };
  const k = () => ['--kubeconfig', testCluster().kubeconfig];
  const deployment = () =>
    testCluster().kube.get<KubeObject & { spec?: { replicas?: number } }>({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'web',
      namespace: ns.name,
    });

  beforeEach(async () => {
    const r = await trellis(['apply', '-f', files({ image: 'nginx:1.27', replicas: 2 }), '--timeout', '0', ...k()]);
    assert.equal(r.code, 0, r.err);
    await eventually(
      async () => {
        const app = await testCluster().kube.get<ApplicationConfiguration>({
          apiVersion: 'core.oam.dev/v1alpha2',
          kind: 'ApplicationConfiguration',
          name: 'shop',
          namespace: ns.name,
        });
        return (
          app.status?.observedGeneration === app.metadata.generation &&
          app.status?.conditions?.some((c) => c.type === 'Synced' && c.status === 'True')
        );
      },
      { what: 'shop Synced' },
    );
  });

  it('says there are no changes and exits 0 when the files are what runs', async () => {
    const r = await trellis(['diff', '-f', files({ image: 'nginx:1.27', replicas: 2 }), ...k()]);
    assert.equal(r.code, 0, `${r.out}${r.err}`);
    assert.match(r.out, /^No changes: \d+ objects are as applying would leave them\.\n$/);
  });

  it('shows each changed field with old and new value and what set it, exits 1, and changes nothing', async () => {
    const r = await trellis(['diff', '-f', files({ image: 'nginx:1.28', replicas: 3 }), ...k()]);
    assert.equal(r.code, 1, r.err);
    const at = (id: string) => `${r.out.split(/\n(?=[~+!-] )/).find((b) => b.startsWith(`~ ${id} `)) ?? ''}\n`;
    const dep = at(`Deployment/${ns.name}/web`);
    assert.match(
      dep,
      /^~ Deployment\/\S+\/web \(template of WorkloadDefinition\/webservice \(component "web"\) of ApplicationConfiguration\/\S+\/shop\)/,
    );
    assert.match(
      dep,
      /\n {4}spec\.replicas: 2 → 3\n {8}# parameter "replicas" of trait "web-scaler" \(TraitDefinition\/scaler\)\n/,
    );
    assert.match(
      dep,
      /\n {4}spec\.template\.spec\.containers\[0\]\.image: "nginx:1\.27" → "nginx:1\.28"\n {8}# parameter "image" of component "web" \(WorkloadDefinition\/webservice\)\n/,
    );
    // The Component changed: applying makes revision web-v2, and the workload's label follows.
    assert.match(dep, /metadata\.labels\.app\.oam\.dev\/revision: "web-v1" → "web-v2"\n {8}# Trellis \(label\)/);
    assert.match(
      at(`Component/${ns.name}/web`),
      /^~ Component\/\S+\/web \(\S*app\.yaml\)\n {4}spec\.workload\.properties\.image: "nginx:1\.27" → "nginx:1\.28"\n/,
    );
    assert.match(
      at(`ApplicationConfiguration/${ns.name}/shop`),
      /\n {4}spec\.components\[0\]\.traits\[0\]\.trait\.properties\.replicas: 2 → 3\n/,
    );
    // Deployment, Service and Ingress carry the new revision label; the Component and the AppConfig changed.
    assert.match(r.out, /\n5 objects changed; 0 unchanged\.\n$/);
    assert.equal((await deployment()).spec?.replicas, 2, 'diff changed nothing');
  });

  it('fails with the render error, exit 1 and no stack trace, for a trait type that does not exist', async () => {
    const r = await trellis(['diff', '-f', files({ image: 'nginx:1.27', replicas: 2, trait: 'scalr' }), ...k()]);
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.match(r.err, /^error: .*trait.*"scalr".*TraitDefinition/);
    assert.doesNotMatch(r.err, /\n\s+at /);
  });
});
