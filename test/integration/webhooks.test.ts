import assert from 'node:assert/strict';
import path from 'node:path';
import { stringify } from 'yaml';
import type { KubeObject } from '../../kube/index.js';
import { testCluster, waitForEstablished } from '../support/cluster.js';
import { CONFORMANCE_DIR, conformanceObjects, upgradeV1beta1Crd } from '../support/conformance.js';
import { kubectl } from '../support/kubectl.js';
import { useNamespace } from '../support/namespace.js';
import { startTestWebhook, type TestWebhook } from '../support/webhook.js';

const conformanceFile = (name: string) => path.join(CONFORMANCE_DIR, 'oam-v1alpha2', name);
const yaml = (...docs: object[]) => docs.map((d) => stringify(d)).join('---\n');

/** Applies with the real kubectl and expects a denial: exit 1, the webhook named, object, field and reason in the message. */
async function denied(namespace: string, docs: object[], webhook: string, message: RegExp): Promise<string> {
  const result = await kubectl(['apply', '-n', namespace, '-f', '-'], { input: yaml(...docs) });
  assert.equal(result.code, 1, `kubectl apply should fail, printed: ${result.stdout}${result.stderr}`);
  assert.match(result.stderr, /^The request is invalid: /, `a 422 Invalid, not a webhook failure: ${result.stderr}`);
  assert.match(result.stderr, new RegExp(`admission webhook "${webhook.replace(/\./g, '\\.')}" denied the request`));
  assert.match(result.stderr, message);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  return result.stderr;
}

describe('webhooks: admission through the real API server (kubectl apply)', function () {
  let webhook: TestWebhook;
  let definitions: ReturnType<typeof conformanceObjects> = [];

  before(async () => {
    const { kube } = testCluster();
    webhook = await startTestWebhook(kube);
    definitions = conformanceObjects([
      '14a-chart-workloaddefinition-containerizedworkload.yaml',
      '14b-chart-traitdefinition-manualscaler.yaml',
      '10b-typed-component-definitions.yaml',
      '11b-webhook-definitions.yaml',
    ]);
    for (const { object } of definitions) {
      const upgraded = upgradeV1beta1Crd(object);
      await kube.apply(upgraded);
      if (upgraded.kind === 'CustomResourceDefinition') await waitForEstablished(kube, upgraded.metadata.name!);
    }
    kube.mapper.invalidate();
  });

  after(async () => {
    await webhook?.stop();
    // The definitions are cluster-scoped: left behind, a later file's did-you-mean sees `web-service`.
    for (const { object } of definitions)
      if (object.kind === 'WorkloadDefinition' || object.kind === 'TraitDefinition')
        await testCluster()
          .kube.delete({ apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name! })
          .catch(() => undefined);
  });

  describe('shorthands (conformance 10, 11)', () => {
    const ns = useNamespace('wh');

    it("expands Component workload.type into the WorkloadDefinition's kind, with the type label (10 + 10b)", async () => {
      const result = await kubectl([
        'apply',
        '-n',
        ns.name,
        '-f',
        conformanceFile('10-typed-component-shorthand.yaml'),
      ]);
      assert.equal(result.code, 0, result.stderr);
      const component = await testCluster().kube.get({
        apiVersion: 'core.oam.dev/v1alpha2',
        kind: 'Component',
        namespace: ns.name,
        name: 'web-service-component',
      });
      const workload = (component.spec as { workload: KubeObject & { spec: { containers: { image: string }[] } } })
        .workload;
      assert.equal(workload.apiVersion, 'core.oam.dev/v1alpha2');
      assert.equal(workload.kind, 'ContainerizedWorkload');
      assert.equal('type' in workload, false);
      assert.deepEqual(workload.metadata.labels, { 'workload.oam.dev/type': 'web-service' });
      assert.equal(workload.spec.containers[0]!.image, 'wordpress:4.6.1-apache');
      assert.equal(component.metadata.labels?.['workload.oam.dev/type'], 'web-service');
      const listed = await kubectl(['get', 'components', '-n', ns.name, '-l', 'workload.oam.dev/type=web-service']);
      assert.match(listed.stdout, /web-service-component\s+ContainerizedWorkload/);
    });

    it('keeps the expanded form when the shorthand file is edited and applied again', async () => {
      assert.equal(
        (await kubectl(['apply', '-n', ns.name, '-f', conformanceFile('10-typed-component-shorthand.yaml')])).code,
        0,
      );
      const [component] = conformanceObjects(['10-typed-component-shorthand.yaml']).map((d) => d.object);
      const edited = structuredClone(component!) as KubeObject & {
        spec: { workload: { spec: { containers: { image: string }[] } } };
      };
      edited.spec.workload.spec.containers[0]!.image = 'wordpress:php7.2';
      const result = await kubectl(['apply', '-n', ns.name, '-f', '-'], { input: yaml(edited) });
      assert.equal(result.code, 0, result.stderr);
      const stored = await testCluster().kube.get({
        apiVersion: 'core.oam.dev/v1alpha2',
        kind: 'Component',
        namespace: ns.name,
        name: 'web-service-component',
      });
      const workload = (stored.spec as { workload: KubeObject & { spec: { containers: { image: string }[] } } })
        .workload;
      assert.equal(workload.kind, 'ContainerizedWorkload');
      assert.equal(workload.spec.containers[0]!.image, 'wordpress:php7.2');
    });

    it('expands the shorthand under server-side apply too, also when re-applied (what GitOps does)', async () => {
      for (let i = 0; i < 2; i++) {
        const result = await kubectl([
          'apply',
          '--server-side',
          '--field-manager',
          'gitops',
          '-n',
          ns.name,
          '-f',
          conformanceFile('10-typed-component-shorthand.yaml'),
        ]);
        assert.equal(result.code, 0, result.stderr);
      }
      const stored = await testCluster().kube.get({
        apiVersion: 'core.oam.dev/v1alpha2',
        kind: 'Component',
        namespace: ns.name,
        name: 'web-service-component',
      });
      const workload = (stored.spec as { workload: KubeObject }).workload;
      assert.deepEqual(
        [workload.apiVersion, workload.kind, 'type' in workload],
        ['core.oam.dev/v1alpha2', 'ContainerizedWorkload', false],
      );
    });

    it("expands trait name/properties into the TraitDefinition's object with trait.oam.dev/type (11 + 11b)", async () => {
      const result = await kubectl([
        'apply',
        '-n',
        ns.name,
        '-f',
        conformanceFile('11-webhook-trait-name-properties-shorthand.yaml'),
      ]);
      assert.equal(result.code, 0, result.stderr);
      const { kube } = testCluster();
      const component = await kube.get({
        apiVersion: 'core.oam.dev/v1alpha2',
        kind: 'Component',
        namespace: ns.name,
        name: 'foo',
      });
      assert.deepEqual((component.spec as { workload: unknown }).workload, {
        apiVersion: 'example.com/v1',
        kind: 'Foo',
        metadata: { labels: { 'workload.oam.dev/type': 'fooworkload' } },
        spec: { key: 'workload' },
      });
      const appConfig = await kube.get({
        apiVersion: 'core.oam.dev/v1alpha2',
        kind: 'ApplicationConfiguration',
        namespace: ns.name,
        name: 'example-appconfig',
      });
      const components = (appConfig.spec as { components: { componentName: string; traits: { trait: unknown }[] }[] })
        .components;
      assert.deepEqual(components[0]!.traits[0]!.trait, {
        apiVersion: 'example.com/v1',
        kind: 'Foo',
        metadata: { labels: { 'trait.oam.dev/type': 'footrait' } },
        spec: { key: 'trait' },
      });
    });
  });

  describe('denials name the object, the field and the reason', () => {
    const ns = useNamespace('wh');
    const component = (name: string, workload: object) => ({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'Component',
      metadata: { name },
      spec: { workload },
    });
    const appConfig = (name: string, components: object[]) => ({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ApplicationConfiguration',
      metadata: { name },
      spec: { components },
    });

    it('denies a Component whose WorkloadDefinition does not exist', async () => {
      await denied(
        ns.name,
        [component('web', { type: 'no-such-type', spec: {} })],
        'mutate-components.core.oam.dev',
        new RegExp(
          `\\[TRL_ADMISSION_DEFINITION_MISSING\\] Component/${ns.name}/web: spec\\.workload\\.type: WorkloadDefinition "no-such-type" does not exist`,
        ),
      );
      assert.equal(
        await testCluster().kube.getOrNull({
          apiVersion: 'core.oam.dev/v1alpha2',
          kind: 'Component',
          namespace: ns.name,
          name: 'web',
        }),
        undefined,
      );
    });

    it('denies a trait shorthand whose TraitDefinition does not exist', async () => {
      await denied(
        ns.name,
        [
          appConfig('app', [
            { componentName: 'web', traits: [{ trait: { name: 'no-such-trait', properties: { a: 1 } } }] },
          ]),
        ],
        'mutate-applicationconfigurations.core.oam.dev',
        new RegExp(
          `\\[TRL_ADMISSION_DEFINITION_MISSING\\] ApplicationConfiguration/${ns.name}/app: spec\\.components\\[0\\]\\.traits\\[0\\]\\.trait\\.name: TraitDefinition "no-such-trait" does not exist`,
        ),
      );
    });

    it('denies a dataInput that names no declared dataOutput', async () => {
      await denied(
        ns.name,
        [
          appConfig('app', [
            { componentName: 'source', dataOutputs: [{ name: 'example-key', fieldPath: 'status.key' }] },
            {
              componentName: 'sink',
              dataInputs: [{ valueFrom: { dataOutputName: 'exmaple-key' }, toFieldPaths: ['spec.key'] }],
            },
          ]),
        ],
        'validate-applicationconfigurations.core.oam.dev',
        new RegExp(
          `\\[TRL_ADMISSION_DATA_INPUT\\] ApplicationConfiguration/${ns.name}/app: spec\\.components\\[1\\]\\.dataInputs\\[0\\]\\.valueFrom\\.dataOutputName: no dataOutput named "exmaple-key" is declared in this ApplicationConfiguration \\(declared: "example-key"\\)`,
        ),
      );
    });

    it('denies a component entry with both componentName and revisionName (the CRD rule answers before the webhook)', async () => {
      const result = await kubectl(['apply', '-n', ns.name, '-f', '-'], {
        input: yaml(appConfig('app', [{ componentName: 'web', revisionName: 'web-v1' }])),
      });
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /The ApplicationConfiguration "app" is invalid: spec\.components\[0\]: Invalid value: set exactly one of componentName .* and revisionName/,
      );
    });

    it('denies a workload that is neither a full object nor a type', async () => {
      await denied(
        ns.name,
        [component('web', { spec: { containers: [] } })],
        'validate-components.core.oam.dev',
        new RegExp(
          `\\[TRL_ADMISSION_WORKLOAD\\] Component/${ns.name}/web: spec\\.workload: needs apiVersion and kind \\(a full object\\), or type naming a WorkloadDefinition`,
        ),
      );
    });

    it('denies a type that is not a string, and a shorthand that contradicts its definition', async () => {
      await denied(
        ns.name,
        [component('web', { type: 7 })],
        'mutate-components.core.oam.dev',
        new RegExp(
          `\\[TRL_ADMISSION_SHORTHAND\\] Component/${ns.name}/web: spec\\.workload\\.type: must be the name of a WorkloadDefinition, got 7`,
        ),
      );
      await denied(
        ns.name,
        [component('web', { type: 'web-service', apiVersion: 'apps/v1', kind: 'Deployment' })],
        'mutate-components.core.oam.dev',
        new RegExp(
          `Component/${ns.name}/web: spec\\.workload\\.apiVersion: is "apps/v1 Deployment" but type "web-service" stands for core\\.oam\\.dev/v1alpha2 ContainerizedWorkload`,
        ),
      );
    });

    it('denies a change of an immutable field of a definition, and admits other changes', async () => {
      const name = `immutable-${ns.name}`;
      const trait = (ref: string, extra: object = {}) => ({
        apiVersion: 'core.oam.dev/v1alpha2',
        kind: 'TraitDefinition',
        metadata: { name },
        spec: { definitionRef: { name: ref }, ...extra },
      });
      try {
        assert.equal(
          (await kubectl(['apply', '-f', '-'], { input: yaml(trait('manualscalertraits.core.oam.dev')) })).code,
          0,
        );
        assert.equal(
          (
            await kubectl(['apply', '-f', '-'], {
              input: yaml(trait('manualscalertraits.core.oam.dev', { podDisruptive: true })),
            })
          ).code,
          0,
        );
        await denied(
          ns.name,
          [trait('foo.example.com')],
          'validate-definitions.core.oam.dev',
          new RegExp(
            `\\[TRL_ADMISSION_IMMUTABLE\\] TraitDefinition/${name}: spec\\.definitionRef\\.name: is immutable: was "manualscalertraits\\.core\\.oam\\.dev", now "foo\\.example\\.com"`,
          ),
        );
      } finally {
        await testCluster().kube.delete({ apiVersion: 'core.oam.dev/v1alpha2', kind: 'TraitDefinition', name });
      }
    });

    it('warns, but admits, a definition whose kind is not served yet', async () => {
      const name = `later-${ns.name}`;
      try {
        const result = await kubectl(['apply', '-f', '-'], {
          input: yaml({
            apiVersion: 'core.oam.dev/v1alpha2',
            kind: 'WorkloadDefinition',
            metadata: { name },
            spec: { definitionRef: { name: 'widgets.later.example.com' } },
          }),
        });
        assert.equal(result.code, 0, result.stderr);
        assert.match(
          result.stderr,
          new RegExp(
            `Warning: WorkloadDefinition/${name}: spec\\.definitionRef\\.name: "widgets\\.later\\.example\\.com" is not served by the API server yet`,
          ),
        );
      } finally {
        await testCluster().kube.delete({ apiVersion: 'core.oam.dev/v1alpha2', kind: 'WorkloadDefinition', name });
      }
    });
  });
});
