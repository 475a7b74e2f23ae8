import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import type { KubeObject } from '../../kube/index.js';
import { testCluster } from '../support/cluster.js';
import { kubectl } from '../support/kubectl.js';
import { eventually, useNamespace } from '../support/namespace.js';
import { startTestWebhook, type TestWebhook } from '../support/webhook.js';

const yaml = (...docs: object[]) => docs.map((d) => stringify(d)).join('---\n');
const component = (name: string, workload: object, extra: object = {}) => ({
  apiVersion: 'core.oam.dev/v1alpha2',
  kind: 'Component',
  metadata: { name },
  spec: { workload, ...extra },
});
const appConfig = (name: string, components: object[]) => ({
  apiVersion: 'core.oam.dev/v1alpha2',
  kind: 'ApplicationConfiguration',
  metadata: { name },
  spec: { components },
});
const configMapWorkload = { apiVersion: 'v1', kind: 'ConfigMap', data: { a: 'b' } };

async function apply(namespace: string | undefined, ...docs: object[]) {
  return kubectl(['apply', ...(namespace ? ['-n', namespace] : []), '-f', '-'], { input: yaml(...docs) });
}

/** A denial through the real kubectl: exit 1, 422, the webhook named, and `message` (object, field, reason). */
async function denied(namespace: string | undefined, docs: object[], webhook: string, message: RegExp): Promise<void> {
  const result = await apply(namespace, ...docs);
  assert.equal(result.code, 1, `kubectl apply should fail, printed: ${result.stdout}${result.stderr}`);
  assert.match(result.stderr, /^The request is invalid: /, result.stderr);
  assert.match(
    result.stderr,
    new RegExp(`admission webhook "${webhook.replace(/\./g, '\\.')}" denied the request`),
    result.stderr,
  );
  assert.match(result.stderr, message);
}

describe('webhooks: validation by rendering (render/ + bind/) through kubectl', function () {
  let webhook: TestWebhook;
  const ns = useNamespace('whr');

  before(async () => {
    webhook = await startTestWebhook(testCluster().kube);
  });

  after(async () => {
    await webhook?.stop();
    await testCluster().kube.delete({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'WorkloadDefinition',
      name: workerDef.metadata.name!,
    });
  });

  /** A CUE-templated WorkloadDefinition whose parameter schema CUE can derive. */
  const workerDef: KubeObject = {
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'WorkloadDefinition',
    metadata: { name: 'webhook-test-worker', annotations: { 'trellis.dev/example': 'properties: { image: busybox }' } },
    spec: {
      schematic: {
        cue: {
          template:
            'parameter: { image: string, replicas: *1 | int }\noutput: { apiVersion: "apps/v1", kind: "Deployment", spec: { replicas: parameter.replicas, selector: matchLabels: app: context.name, template: { metadata: labels: app: context.name, spec: containers: [{ name: "main", image: parameter.image }] } } }\n',
        },
      },
    },
  };

  it('fills in the parameter defaults of a CUE-typed workload', async () => {
    assert.equal((await apply(undefined, workerDef)).code, 0);
    const result = await apply(
      ns.name,
      component('job', { type: workerDef.metadata.name, properties: { image: 'busybox' } }),
    );
    assert.equal(result.code, 0, result.stderr);
    const stored = await testCluster().kube.get({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'Component',
      namespace: ns.name,
      name: 'job',
    });
    const workload = (stored.spec as { workload: { type: string; properties: Record<string, unknown> } }).workload;
    assert.deepEqual(workload, { type: workerDef.metadata.name, properties: { image: 'busybox', replicas: 1 } });
  });

  it("denies properties that do not match the template's parameters, naming the field", async () => {
    assert.equal((await apply(undefined, workerDef)).code, 0);
    await denied(
      ns.name,
      [component('job', { type: workerDef.metadata.name, properties: { image: 'busybox', replicas: 'one' } })],
      'validate-components.core.oam.dev',
      new RegExp(
        `\\[TRL_ADMISSION_PROPERTIES\\] Component/${ns.name}/job: spec\\.workload\\.properties\\.replicas: expected integer \\(WorkloadDefinition "${workerDef.metadata.name}"\\)`,
      ),
    );
    // The built-in webservice, against its generated parameter schema.
    await denied(
      ns.name,
      [component('web', { type: 'webservice', properties: { image: 'nginx', port: 'eighty' } })],
      'validate-components.core.oam.dev',
      new RegExp(
        `\\[TRL_ADMISSION_PROPERTIES\\] Component/${ns.name}/web: spec\\.workload\\.properties\\.port: expected integer \\(WorkloadDefinition "webservice"\\)`,
      ),
    );
  });

  it('admits a Component whose required property a parameter supplies later', async () => {
    const result = await apply(
      ns.name,
      component(
        'web',
        { type: 'webservice', properties: {} },
        { parameters: [{ name: 'image', fieldPaths: ['properties.image'] }] },
      ),
    );
    assert.equal(result.code, 0, result.stderr);
  });

  it("denies trait properties the trait's template refuses", async () => {
    assert.equal(
      (await apply(ns.name, component('web', { type: 'webservice', properties: { image: 'nginx' } }))).code,
      0,
    );
    await denied(
      ns.name,
      [
        appConfig('app', [
          { componentName: 'web', traits: [{ trait: { name: 'scaler', properties: { replicas: 'three' } } }] },
        ]),
      ],
      'validate-applicationconfigurations.core.oam.dev',
      /\[TRL_RENDER_PARAMETER\] .*parameter "replicas": expected int, got "three"/,
    );
  });

  it("admits edits of an AppConfig it has rendered once, and still denies a bad edit with the render's message", async () => {
    assert.equal(
      (await apply(ns.name, component('web', { type: 'webservice', properties: { image: 'nginx' } }))).code,
      0,
    );
    const edit = (replicas: unknown) =>
      appConfig('app', [{ componentName: 'web', traits: [{ trait: { name: 'scaler', properties: { replicas } } }] }]);
    for (const replicas of [2, 5, 7]) {
      const result = await apply(ns.name, edit(replicas));
      assert.equal(result.code, 0, result.stderr);
    }
    await denied(
      ns.name,
      [edit('eight')],
      'validate-applicationconfigurations.core.oam.dev',
      /\[TRL_RENDER_PARAMETER\] .*parameter "replicas": expected int, got "eight"/,
    );
    await denied(
      ns.name,
      [
        appConfig('app', [
          {
            componentName: 'web',
            traits: [
              { trait: { name: 'scaler', properties: { replicas: 9 } } },
              { trait: { name: 'scaler', properties: { replicas: 3 } } },
            ],
          },
        ]),
      ],
      'validate-applicationconfigurations.core.oam.dev',
      /\[TRL_BIND_PATCH_CONFLICT\] .*spec\.components\[0\]\.traits\[1\]: traits "web-scaler" and "web-scaler-2" both set spec\.replicas/,
    );
    const stored = await testCluster().kube.get({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ApplicationConfiguration',
      namespace: ns.name,
      name: 'app',
    });
    assert.deepEqual(
      (stored.spec as { components: { traits: { trait: unknown }[] }[] }).components[0]!.traits[0]!.trait,
      { name: 'scaler', properties: { replicas: 7 } },
    );
  });

  it('denies conflicting traits (conflictsWith) and a trait that does not apply to the workload (appliesToWorkloads)', async () => {
    assert.equal(
      (
        await apply(
          ns.name,
          component('web', { type: 'webservice', properties: { image: 'nginx' } }),
          component('settings', configMapWorkload),
        )
      ).code,
      0,
    );
    await denied(
      ns.name,
      [
        appConfig('app', [
          {
            componentName: 'web',
            traits: [
              { trait: { name: 'scaler', properties: { replicas: 2 } } },
              { trait: { name: 'autoscaler', properties: { max: 4 } } },
            ],
          },
        ]),
      ],
      'validate-applicationconfigurations.core.oam.dev',
      /\[TRL_BIND_TRAIT_CONFLICT\] ApplicationConfiguration\/.*spec\.components\[0\]/,
    );
    await denied(
      ns.name,
      [
        appConfig('app', [
          { componentName: 'settings', traits: [{ trait: { name: 'autoscaler', properties: { max: 4 } } }] },
        ]),
      ],
      'validate-applicationconfigurations.core.oam.dev',
      /\[TRL_BIND_NOT_APPLICABLE\] ApplicationConfiguration\/.*spec\.components\[0\]\.traits\[0\]/,
    );
  });

  it('admits an AppConfig whose Component is not there yet, with a warning, and still checks the others', async () => {
    assert.equal(
      (await apply(ns.name, component('web', { type: 'webservice', properties: { image: 'nginx' } }))).code,
      0,
    );
    const ok = await apply(
      ns.name,
      appConfig('app', [
        { componentName: 'later' },
        { componentName: 'web', traits: [{ trait: { name: 'scaler', properties: { replicas: 2 } } }] },
      ]),
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /Warning: .*spec\.components\[0\]: component "later" does not exist yet/);
    await denied(
      ns.name,
      [
        appConfig('app2', [
          { componentName: 'later' },
          { componentName: 'web', traits: [{ trait: { name: 'scaler', properties: { replicas: 'two' } } }] },
        ]),
      ],
      'validate-applicationconfigurations.core.oam.dev',
      /spec\.components\[1\].*parameter "replicas": expected int, got "two"/,
    );
  });

  it('sees a Component created or changed in the same kubectl apply as the AppConfig (read live past the cache)', async () => {
    const parameter = (name: string) => ({ parameters: [{ name, fieldPaths: ['data.a'] }] });
    const uses = (app: string, name: string) =>
      appConfig(app, [{ componentName: 'fresh', parameterValues: [{ name, value: 'x' }] }]);
    // Created a moment before the AppConfig: not in the webhook's watch cache yet.
    const created = await apply(ns.name, component('fresh', configMapWorkload, parameter('a')), uses('fresh-a', 'a'));
    assert.equal(created.code, 0, created.stderr);
    assert.doesNotMatch(created.stderr, /does not exist yet/);
    // Changed a moment before: the cache may still hold the parameter's old name.
    const changed = await apply(ns.name, component('fresh', configMapWorkload, parameter('b')), uses('fresh-b', 'b'));
    assert.equal(changed.code, 0, changed.stderr);
    // Once the change is watched, the old name is refused.
    await eventually(
      async () => {
        try {
          await testCluster().kube.create(
            { ...uses('fresh-c', 'a'), metadata: { name: 'fresh-c', namespace: ns.name } },
            {
              dryRun: true,
            },
          );
          return false;
        } catch (err) {
          return /TRL_RENDER_PARAMETER_UNKNOWN.*parameterValues\[0\]\.name/.test(String(err));
        }
      },
      { what: 'the webhook to refuse a parameter the Component no longer declares' },
    );
  });

  describe('definitions', () => {
    const created: string[] = [];
    const traitDef = (name: string, template: string, annotations: Record<string, string> = {}): KubeObject => {
      created.push(name);
      return {
        apiVersion: 'core.oam.dev/v1alpha2',
        kind: 'TraitDefinition',
        metadata: { name, annotations },
        spec: { schematic: { cue: { template } } },
      };
    };
    afterEach(async () => {
      for (const name of created.splice(0))
        await testCluster().kube.delete({ apiVersion: 'core.oam.dev/v1alpha2', kind: 'TraitDefinition', name });
    });

    it('denies a CUE template that does not compile, quoting CUE', async () => {
      const name = `broken-${ns.name}`;
      await denied(
        undefined,
        [traitDef(name, 'parameter: replicas: *1 | int\npatch: spec: { replicas: parameter.replicas\n')],
        'validate-definitions.core.oam.dev',
        new RegExp(
          `\\[TRL_ADMISSION_TEMPLATE\\] TraitDefinition/${name}: spec\\.schematic\\.cue\\.template: does not compile: .*line 3`,
        ),
      );
      const typo = `typo-${ns.name}`;
      await denied(
        undefined,
        [traitDef(typo, 'parameter: replicas: *1 | int\npatch: spec: replicas: parameter.replicaz\n')],
        'validate-definitions.core.oam.dev',
        new RegExp(
          `\\[TRL_ADMISSION_TEMPLATE\\] TraitDefinition/${typo}: spec\\.schematic\\.cue\\.template: does not compile: patch\\.spec\\.replicas: parameter\\.replicaz is not declared in the template's parameter \\(line 2:34\\)`,
        ),
      );
    });

    it('denies a definition whose example does not render, and admits it once the example fits', async () => {
      const name = `labeller-${ns.name}`;
      const template = 'parameter: team: string\npatch: metadata: labels: team: parameter.team\n';
      await denied(
        undefined,
        [traitDef(name, template, { 'trellis.dev/example': 'properties: { team: 7 }' })],
        'validate-definitions.core.oam.dev',
        new RegExp(
          `\\[TRL_ADMISSION_EXAMPLE\\] TraitDefinition/${name}: spec\\.schematic\\.cue\\.template: its example \\(annotation trellis\\.dev/example\\) does not render: .*team`,
        ),
      );
      const ok = await apply(
        undefined,
        traitDef(name, template, { 'trellis.dev/example': 'properties: { team: shop }' }),
      );
      assert.equal(ok.code, 0, ok.stderr);
      const noExample = await apply(undefined, traitDef(`${name}-2`, template));
      assert.equal(noExample.code, 0, noExample.stderr);
      assert.match(
        noExample.stderr,
        /Warning: .*parameters "team" have no default; add an example as annotation trellis\.dev\/example/,
      );
    });
  });
});
