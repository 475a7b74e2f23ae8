import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { CueEngine } from '../../cue/index.js';
import { isTrellisError } from '../../lib/errors.js';
import type { KubeObject } from '../../kube/types.js';
import { goldenOf } from '../golden.js';
import { renderObjects } from '../offline.js';
import { KUBEVELA, kubevelaCases, kubevelaDefinitions } from '../testdata/kubevela-cases.js';

type Container = {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string }[];
};
const containersOf = (o: KubeObject) =>
  (o.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers;
const podLabels = (o: KubeObject) =>
  (o.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;

/**
 * KubeVela's docs examples with KubeVela's built-in definitions, both unchanged
 * (../shared/conformance/kubevela). KubeVela cannot be built here (its Go module is not served), so
 * what it renders is read from the definitions' templates and KubeVela's appfile code
 * (pkg/appfile/appfile.go: SetOAMContract, assembleWorkload, setWorkloadLabels): each expectation
 * below says which part of a template or of KubeVela produces the field. The goldens
 * (application/testdata/kubevela/, `npm run generate:goldens`) hold the whole objects, reviewed by hand.
 */
describe('conformance: ../shared/conformance/kubevela renders as KubeVela renders it (issue 16)', () => {
  let engine: CueEngine;
  const cases = kubevelaCases();
  const render = async (name: string) => {
    const c = cases.find((x) => x.name === name)!;
    const [a] = await renderObjects([...kubevelaDefinitions(), ...c.objects], { engine });
    return a.app;
  };
  before(function () {
    if (!existsSync(KUBEVELA)) this.skip();
    engine = new CueEngine({ engine: 'native' });
  });
  after(() => engine?.stop());

  it('every definition file is used unchanged: 6 ComponentDefinitions and 16 TraitDefinitions, each with a CUE template', () => {
    const defs = kubevelaDefinitions();
    assert.equal(defs.filter((d) => d.kind === 'ComponentDefinition').length, 6);
    assert.equal(defs.filter((d) => d.kind === 'TraitDefinition').length, 16);
    for (const d of defs) assert.equal(d.apiVersion, 'core.oam.dev/v1beta1', `${d.kind}/${d.metadata.name}`);
  });

  it("every definition's template compiles on the native engine (cuelang.org/go v0.14.1, KubeVela's pin)", async () => {
    for (const d of kubevelaDefinitions()) {
      const template = (d.spec as { schematic: { cue: { template: string } } }).schematic.cue.template;
      await engine.check(template).catch((err: unknown) => assert.fail(`${d.kind}/${d.metadata.name}: ${String(err)}`));
    }
  });

  it("webservice: the Deployment is named after the component, selects pods by app.oam.dev/component, and carries KubeVela's labels", async () => {
    const app = await render('app-with-probe--app-with-probe.yaml');
    assert.equal(
      app.objects.length,
      1,
      'only the deprecated `port` is set, so exposePorts is empty and no Service is rendered',
    );
    const d = app.objects[0].object;
    assert.deepEqual(
      [d.apiVersion, d.kind, d.metadata.name, d.metadata.namespace],
      ['apps/v1', 'Deployment', 'frontend', 'default'],
    );
    // template: `selector: matchLabels: "app.oam.dev/component": context.name`, pod labels app.oam.dev/name + component.
    assert.deepEqual((d.spec as { selector: unknown }).selector, {
      matchLabels: { 'app.oam.dev/component': 'frontend' },
    });
    assert.deepEqual(podLabels(d), { 'app.oam.dev/name': 'my-website', 'app.oam.dev/component': 'frontend' });
    // appfile.go SetOAMContract: name, namespace, appRevision, component; resourceType WORKLOAD; workload.oam.dev/type.
    const l = d.metadata.labels!;
    assert.deepEqual(
      [
        l['app.oam.dev/name'],
        l['app.oam.dev/namespace'],
        l['app.oam.dev/appRevision'],
        l['app.oam.dev/component'],
        l['app.oam.dev/resourceType'],
        l['workload.oam.dev/type'],
      ],
      ['my-website', 'default', 'my-website-v1', 'frontend', 'WORKLOAD', 'webservice'],
    );
    const [c] = containersOf(d);
    // `cmd` becomes command; the deprecated `port` becomes one containerPort; the probe gets #HealthProbe's defaults.
    assert.deepEqual(c.command, ['node', 'server.js']);
    assert.deepEqual((c as unknown as { ports: unknown }).ports, [{ containerPort: 8080 }]);
    assert.deepEqual((c as unknown as { livenessProbe: unknown }).livenessProbe, {
      httpGet: { path: '/', port: 8080 },
      initialDelaySeconds: 0,
      periodSeconds: 10,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 3,
    });
  });

  it('sidecar then env: the env trait patches the main container (context.name) by patchKey=name, the sidecar stays as added', async () => {
    const app = await render('traits--env--single-container.yaml');
    const [main, sidecar] = containersOf(app.objects[0].object);
    assert.equal(main.name, 'busybox');
    assert.deepEqual(main.env, [
      { name: 'key_first', value: 'value_first' },
      { name: 'key_second', value: 'value_second' },
    ]);
    assert.deepEqual(sidecar, { name: 'sidecar-nginx', image: 'nginx' });
  });

  it('traits in order: command reaches the container the sidecar trait added before it (context.output is the patched workload)', async () => {
    const app = await render('traits--command--multiple-containers.yaml');
    const [main, sidecar] = containersOf(app.objects[0].object);
    // command.cue: `command` replaces; `args` = the given args, else the base container's, else [].
    assert.deepEqual([main.command, main.args], [['sleep', '8640000'], []]);
    assert.deepEqual([sidecar.name, sidecar.image, sidecar.args], ['sidecar-nginx', 'nginx', ['-q']]);
  });

  it('labels (jsonMergePatch): added and overridden on the workload and its pod template; null deletes the key', async () => {
    const app = await render('traits--labels--example.yaml');
    const d = app.objects[0].object;
    const pod = podLabels(d);
    assert.equal(pod['label-key'], 'modified-label-value');
    assert.equal(pod['added-label-key'], 'added-label-value');
    assert.ok(!('to-delete-label-key' in pod), 'null removes the label the component set');
    assert.equal(d.metadata.labels!['added-label-key'], 'added-label-value');
    assert.ok(!('to-delete-label-key' in d.metadata.labels!));
  });

  it('container-image and command on a single container replace what the component set', async () => {
    const image = containersOf((await render('traits--container-image--single-container.yaml')).objects[0].object);
    const command = containersOf((await render('traits--command--single-container.yaml')).objects[0].object);
    assert.equal(image[0].image, 'busybox-1.34.0');
    assert.deepEqual(command[0].command, ['sleep', '8640000']);
  });

  for (const c of cases.filter((x) => x.refused)) {
    it(`refused: ${c.name} — ${c.refused!.code} naming ${c.refused!.field}`, async () => {
      await assert.rejects(renderObjects([...kubevelaDefinitions(), ...c.objects], { engine }), (err: unknown) => {
        assert.ok(isTrellisError(err, c.refused!.code), String(err));
        assert.match(err.object ?? '', /^Application\/default\//);
        assert.equal(err.field, c.refused!.field);
        assert.match(err.message, c.refused!.message);
        return true;
      });
    });
  }

  for (const c of cases.filter((x) => x.golden)) {
    it(`golden: ${c.name}`, async () => {
      const golden = await goldenOf([...kubevelaDefinitions(), ...c.objects], engine);
      assert.equal(golden.rendered, readFileSync(c.golden!, 'utf8'));
    });
  }
});
