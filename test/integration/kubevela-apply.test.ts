import assert from 'node:assert/strict';
import path from 'node:path';
import { KUBEVELA, kubevelaCases, kubevelaDefinitions } from '../../application/testdata/kubevela-cases.js';
import { kubectl } from '../support/kubectl.js';
import { useNamespace } from '../support/namespace.js';

/**
 * Issue 16: KubeVela's definitions and Applications apply unchanged with kubectl (strict field
 * validation, kubectl's default), through the chart's CRDs. Definitions are cluster-scoped in
 * Trellis, so they are deleted again afterwards: KubeVela's `scaler`, `env`, … would otherwise
 * replace the built-in TraitDefinitions of those names for the rest of the run.
 */
describe('KubeVela files apply unchanged (core.oam.dev/v1beta1 CRDs)', () => {
  const ns = useNamespace();
  const definitions = path.join(KUBEVELA, 'definitions');
  after(async () => {
    const names = kubevelaDefinitions().map(
      (d) =>
        `${d.kind === 'ComponentDefinition' ? 'componentdefinitions' : 'traitdefinitions'}.core.oam.dev/${d.metadata.name}`,
    );
    await kubectl(['delete', '--ignore-not-found', ...names]);
  });

  it('every definition file applies, and reads back in v1beta1 with its template, status and KubeVela fields', async () => {
    const applied = await kubectl(['apply', '-f', definitions]);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /componentdefinition\.core\.oam\.dev\/webservice (created|configured|unchanged)/);
    const expose = JSON.parse(
      (await kubectl(['get', 'traitdefinitions.v1beta1.core.oam.dev', 'expose', '-o', 'json'])).stdout,
    ) as {
      apiVersion: string;
      metadata: { namespace?: string };
      spec: { stage: string; schematic: { cue: { template: string } }; status: { healthPolicy: string } };
    };
    assert.equal(expose.apiVersion, 'core.oam.dev/v1beta1');
    assert.equal(expose.metadata.namespace, undefined, "cluster-scoped: the file's namespace: vela-system is ignored");
    assert.equal(expose.spec.stage, 'PostDispatch');
    assert.match(expose.spec.schematic.cue.template, /outputs: service:/);
    assert.ok(expose.spec.status.healthPolicy);
    const web = JSON.parse((await kubectl(['get', 'componentdefinition', 'webservice', '-o', 'json'])).stdout) as {
      spec: { workload: { type: string } };
    };
    assert.equal(web.spec.workload.type, 'deployments.apps');
    const list = await kubectl(['get', 'componentdefinitions', '-o', 'name']);
    assert.equal(list.stdout.trim().split('\n').length, 6);
  });

  it("every example Application is accepted by the Application CRD; kubectl get app prints KubeVela's columns", async () => {
    for (const c of kubevelaCases()) {
      // workflow--basic-app.yaml names namespace "default", shared by the run: a server-side dry run there.
      const file = path.join(KUBEVELA, 'applications', c.name);
      const args = c.objects[0]!.metadata.namespace
        ? ['apply', '--dry-run=server', '-f', file]
        : ['apply', '-n', ns.name, '-f', file];
      const applied = await kubectl(args);
      assert.equal(applied.code, 0, `${c.name}: ${applied.stderr}`);
    }
    const table = await kubectl(['get', 'app', '-n', ns.name]);
    assert.match(table.stdout.split('\n')[0]!, /^NAME\s+COMPONENT\s+TYPE\s+PHASE\s+HEALTHY\s+STATUS\s+AGE/);
    assert.match(table.stdout, /my-website\s+frontend\s+webservice/);
  });
});
