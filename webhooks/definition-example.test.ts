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

  it('admits every one of KubeVela’s definitions unchanged (storage: see below)', async () => {
    for (const d of kubevelaDefinitions().filter((x) => x.metadata.name !== 'storage')) {
      const result = await check(d).catch((err: Error) => assert.fail(`${d.kind}/${d.metadata.name}: ${err.message}`));
      assert.ok(result.rendered || result.warning, `${d.metadata.name}: rendered or says why not`);
    }
  });

  // KubeVela's `storage` iterates `parameter.pvc`, `configMap`, `secret` (optional lists): on cuelang.org/go
  // v0.14.1 (and v0.4) an absent one is "cannot reference optional field", so its defaults do not render —
  // nor does an Application using it without all three (docs/kubevela.md). Trellis' built-in `storage`
  // carries the built-in label, which the webhook skips, so `kubectl apply` over it is admitted.
  it('refuses storage with defaults, naming the optional fields CUE cannot iterate', async () => {
    await assert.rejects(check(named('storage')), /cannot reference optional field:? pvc/);
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
