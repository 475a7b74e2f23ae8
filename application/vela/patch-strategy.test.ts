import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { CueEngine } from '../../cue/index.js';
import { isTrellisError } from '../../lib/errors.js';
import type { KubeObject } from '../../kube/types.js';
import { goldenOf } from '../golden.js';
import { renderObjects } from '../offline.js';
import { KUBEVELA, kubevelaDefinitions, kubevelaMoreCases } from '../testdata/kubevela-cases.js';

type Container = Record<string, unknown> & { name: string };
type PodSpec = { containers: Container[]; initContainers?: Container[]; volumes?: { name: string }[] };
const podSpec = (o: KubeObject) => (o.spec as { template: { spec: PodSpec } }).template.spec;
const names = (items: { name: string }[] | undefined) => (items ?? []).map((i) => i.name);

/** A TraitDefinition of our own whose patch sets a container's image, with or without retainKeys. */
function imageTrait(name: string, tag: string): KubeObject {
  return {
    apiVersion: 'core.oam.dev/v1beta1',
    kind: 'TraitDefinition',
    metadata: { name },
    spec: {
      appliesToWorkloads: ['deployments.apps'],
      schematic: {
        cue: {
          template: `patch: spec: template: spec: {
	// +patchKey=name
	containers: [{
		name: context.name
		${tag}
		image: parameter.image
	}]
}
parameter: image: string
`,
        },
      },
    },
  };
}

const app = (trait: string): KubeObject => ({
  apiVersion: 'core.oam.dev/v1beta1',
  kind: 'Application',
  metadata: { name: 'img', namespace: 'default' },
  spec: {
    components: [
      {
        name: 'web',
        type: 'webservice',
        properties: { image: 'web:1' },
        traits: [{ type: trait, properties: { image: 'web:2' } }],
      },
    ],
  },
});

/**
 * KubeVela's patch strategies (its docs, "Patch strategy"; kubevela/workflow pkg/cue/model/sets): the
 * `// +patchKey=…` / `// +patchStrategy=…` comments of KubeVela's own trait templates, applied to a
 * webservice that already has env, a volume and a mount, then a sidecar — so a merge that replaced a
 * list or appended instead of merging would show as a lost or duplicated entry.
 * (application/testdata/kubevela-more/patch-strategies.yaml, traits in this order: sidecar, env,
 * storage, init-container, container-image, resource.)
 */
describe('KubeVela patch strategies: +patchKey, +patchStrategy on a webservice with containers, env and volumes', () => {
  let engine: CueEngine;
  const c = kubevelaMoreCases().find((x) => x.name === 'patch-strategies.yaml')!;
  let deployment: KubeObject;
  before(async function () {
    if (!existsSync(KUBEVELA)) this.skip();
    engine = new CueEngine({ engine: 'native' });
    const [a] = await renderObjects([...kubevelaDefinitions(), ...c.objects], { engine });
    assert.equal(a.app.objects.length, 1, 'emptyDir and an init container make no objects');
    deployment = a.app.objects[0].object;
  });
  after(() => engine?.stop());

  it('sidecar (+patchKey=name on spec, inherited by containers): the proxy is added beside web, not merged into it', () => {
    assert.deepEqual(names(podSpec(deployment).containers), ['web', 'proxy']);
    const proxy = podSpec(deployment).containers[1];
    assert.deepEqual(proxy.env, [{ name: 'ENVOY_LOG', value: 'warn' }], "the sidecar's own env only");
  });

  it("env (+patchStrategy=replace on env, built from the container's env): A kept, B overridden, C added — once each", () => {
    const [web] = podSpec(deployment).containers;
    // env.cue: `_baseEnv` is the web container's env in context.output; the new list keeps each base variable
    // (its value replaced when the trait sets it) and appends the trait's others; `replace` swaps the whole list.
    assert.deepEqual(web.env, [
      { name: 'A', value: '1' },
      { name: 'B', value: '3' },
      { name: 'C', value: '4' },
    ]);
  });

  it('storage (containers without patchKey → by index; volumes, volumeMounts +patchKey=name): appended after the tmp volume', () => {
    const spec = podSpec(deployment);
    // The storage patch's containers list unifies by index with [web, proxy]: only web (index 0) gets mounts.
    assert.deepEqual(spec.containers[0].volumeMounts, [
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'emptydir-cache', mountPath: '/cache' },
      { name: 'seed-data', mountPath: '/seed' },
    ]);
    assert.ok(!('volumeMounts' in spec.containers[1]), 'the sidecar is not touched by storage');
    // volumes: the webservice's tmp, storage's emptydir-cache, init-container's seed-data — by name, each once.
    assert.deepEqual(names(spec.volumes), ['tmp', 'emptydir-cache', 'seed-data']);
  });

  it('init-container (+patchKey=name on containers, initContainers, volumes, volumeMounts): the mount goes to context.name', () => {
    const spec = podSpec(deployment);
    assert.deepEqual(spec.initContainers, [
      {
        name: 'seed',
        image: 'busybox:1.36',
        imagePullPolicy: 'IfNotPresent',
        volumeMounts: [{ name: 'seed-data', mountPath: '/out' }],
      },
    ]);
    assert.deepEqual(spec.volumes![2], { name: 'seed-data', emptyDir: {} });
  });

  it('container-image (+patchStrategy=retainKeys on image): the named sidecar’s image replaced, web’s left', () => {
    const [web, proxy] = podSpec(deployment).containers;
    assert.equal(proxy.image, 'envoyproxy/envoy:v1.32');
    assert.equal(web.image, 'ghcr.io/example/web:1.0');
  });

  it('resource (+patchStrategy=retainKeys on requests and limits): the webservice’s cpu 0.5 replaced, not conflicting', () => {
    const [web] = podSpec(deployment).containers;
    assert.deepEqual(web.resources, { requests: { cpu: '1', memory: '512Mi' }, limits: { cpu: '1', memory: '512Mi' } });
  });

  it('a patch setting a value the workload has, without retainKeys, is a conflict naming trait and field (as KubeVela’s unification fails)', async () => {
    await assert.rejects(
      renderObjects([...kubevelaDefinitions(), imageTrait('image-unify', ''), app('image-unify')], { engine }),
      (err: unknown) => {
        assert.ok(isTrellisError(err, 'TRL_BIND_PATCH_CONFLICT'), String(err));
        assert.match(
          err.message,
          /sets spec\.template\.spec\.containers\.web\.image to "web:2" and the workload has "web:1"/,
        );
        assert.match(err.message, /\+patchStrategy=retainKeys/);
        return true;
      },
    );
    const [a] = await renderObjects(
      [...kubevelaDefinitions(), imageTrait('image-retain', '// +patchStrategy=retainKeys'), app('image-retain')],
      { engine },
    );
    assert.equal(
      podSpec(a.app.objects[0].object).containers[0].image,
      'web:2',
      'with retainKeys the patch replaces it',
    );
  });

  it("Trellis' own built-in traits keep Trellis' merge in an Application: storage's containerName picks the sidecar", async () => {
    const vela = kubevelaDefinitions().filter((d) => d.metadata.name !== 'storage'); // the built-in `storage`
    const application: KubeObject = {
      ...app('sidecar'),
      spec: {
        components: [
          {
            name: 'web',
            type: 'webservice',
            properties: { image: 'web:1' },
            traits: [
              { type: 'sidecar', properties: { name: 'log', image: 'fluent-bit:3' } },
              {
                type: 'storage',
                properties: { containerName: 'log', configMap: [{ name: 'cfg', mountPath: '/cfg' }] },
              },
            ],
          },
        ],
      },
    };
    const [a] = await renderObjects([...vela, application], { engine });
    const [web, log] = podSpec(a.app.objects[0].object).containers;
    // By index (KubeVela's unification) the built-in's container item would meet `web` and conflict on its name.
    assert.ok(!('volumeMounts' in web));
    assert.deepEqual(log.volumeMounts, [{ name: 'configmap-cfg', mountPath: '/cfg', readOnly: true }]);
  });

  it('golden: patch-strategies.yaml', async () => {
    const golden = await goldenOf([...kubevelaDefinitions(), ...c.objects], engine);
    assert.equal(golden.rendered, readFileSync(c.golden!, 'utf8'));
  });
});
