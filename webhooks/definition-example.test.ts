import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { TraitDefinition } from '../apis/generated/core.oam.dev-v1alpha2.js';
import { KUBEVELA, kubevelaDefinitions } from '../application/testdata/kubevela-cases.js';
import { CueEngine } from '../cue/index.js';
import { StaticDefinitionSource } from '../definitions/index.js';
import { isTrellisError } from '../lib/errors.js';
import type { KubeObject } from '../kube/types.js';
import { checkDefinitionExample } from './definition-example.js';

/**
 * The definitions webhook renders a definition's example before admitting it. KubeVela's own
 * definitions must pass unchanged (issue 16: `kubectl apply -f definitions/` under `trellis up`,
 * where the webhook runs): they render with KubeVela's template context, and one whose parameter
 * CUE cannot describe as a schema is admitted with a warning instead of refused.
 */
describe('webhooks: definition examples of KubeVela definitions', () => {
  let engine: CueEngine;
  before(function () {
    if (!existsSync(KUBEVELA)) this.skip();
    engine = new CueEngine({ engine: 'native' });
  });
  after(() => engine?.stop());
  const check = (d: KubeObject) =>
    checkDefinitionExample(d as TraitDefinition & KubeObject, {
      definitions: new StaticDefinitionSource({ objects: [] }),
      engine,
      parameterSchema: (t) => engine.parameterSchema(t),
    });
  const named = (name: string) => kubevelaDefinitions().find((d) => d.metadata.name === name)!;

  it('admits every one of KubeVela’s definitions unchanged', async () => {
    for (const d of kubevelaDefinitions()) {
      const result = await check(d).catch((err: Error) => assert.fail(`${d.kind}/${d.metadata.name}: ${err.message}`));
      assert.ok(result.rendered || result.warning, `${d.metadata.name}: rendered or says why not`);
    }
  });

  // KubeVela's `storage` iterates `parameter.pvc`, `configMap`, `secret` in `outputs` without a guard: with
  // none set, `outputs` carries "cannot reference optional field" of its own, which KubeVela never reads (it
  // takes outputs member by member, and so does Trellis' evaluator) — its defaults render to no objects.
  it('renders storage with its defaults (no pvc, configMap or secret), as KubeVela does', async () => {
    assert.deepEqual(await check(named('storage')), { rendered: true });
  });

  it('renders hpa with context.clusterVersion, as KubeVela fills it — also as the API server sends it (v1alpha2)', async () => {
    assert.deepEqual(await check(named('hpa')), { rendered: true });
    assert.deepEqual(await check({ ...named('hpa'), apiVersion: 'core.oam.dev/v1alpha2' }), { rendered: true });
  });

  it('container-image (a parameter that is one of two shapes) is admitted with a warning naming the annotation', async () => {
    const result = await check(named('container-image'));
    assert.equal(result.rendered, false);
    assert.match(
      result.warning!,
      /^TraitDefinition\/container-image: not rendered before admission: .*trellis\.dev\/example/,
    );
  });

  it('still refuses a KubeVela definition whose defaults do not render, naming it', async () => {
    const broken = structuredClone(named('hpa'));
    (broken.spec as { schematic: { cue: { template: string } } }).schematic.cue.template +=
      '\noutputs: extra: { apiVersion: "v1", kind: parameter.nope }\n';
    await assert.rejects(check(broken), (err: unknown) => {
      assert.ok(isTrellisError(err));
      assert.equal(err.code, 'TRL_ADMISSION_EXAMPLE');
      assert.equal(err.object, 'TraitDefinition/hpa');
      return true;
    });
  });
});
