import assert from 'node:assert/strict';
import type { ApplicationConfiguration, Component, ComponentEntry } from '../apis/generated/core.oam.dev-v1alpha2.js';
import { builtinCatalog, layeredSource, StaticDefinitionSource } from '../definitions/index.js';
import { staticComponents, type BoundApplication } from '../render/index.js';
import { CueEngine } from '../cue/index.js';
import { ownCopy, renderApplication } from './render-application.js';

const component = (name: string, workload: Record<string, unknown>): Component => ({
  apiVersion: 'core.oam.dev/v1alpha2',
  kind: 'Component',
  metadata: { name },
  spec: { workload },
});
const appConfig = (components: ComponentEntry[]): ApplicationConfiguration => ({
  apiVersion: 'core.oam.dev/v1alpha2',
  kind: 'ApplicationConfiguration',
  metadata: { name: 'shop', namespace: 'prod' },
  spec: { components },
});
const find = (app: BoundApplication, kind: string, name: string) =>
  app.objects.find((o) => o.object.kind === kind && o.object.metadata.name === name)?.object;

describe('renderApplication (render + bind, built-in catalog)', () => {
  let engine: CueEngine;
  const comps = staticComponents(
    [
      component('web', { type: 'webservice', properties: { image: 'nginx:1.27', port: 8080 } }),
      component('nightly', { type: 'cronjob', properties: { image: 'busybox', schedule: '0 3 * * *' } }),
      component('raw', { apiVersion: 'v1', kind: 'ConfigMap', data: { a: '1' } }),
    ],
    { latestRevisions: { web: 'web-v3' } },
  );
  const render = (entries: ComponentEntry[]) =>
    renderApplication({ appConfig: appConfig(entries), components: comps, definitions: builtinCatalog(), engine });
  before(() => {
    engine = new CueEngine();
  });
  after(() => engine.stop());

  it('renders a webservice with traits into labelled, bound objects', async () => {
    const app = await render([
      {
        componentName: 'web',
        traits: [
          { trait: { name: 'autoscaler', properties: { min: 2, max: 5 } } },
          { trait: { name: 'ingress', properties: { host: 'shop.example.com' } } },
          { trait: { name: 'sidecar', properties: { name: 'log', image: 'fluentbit' } } },
          { trait: { name: 'labels', properties: { team: 'a' } } },
        ],
      },
    ]);
    assert.deepEqual(
      app.objects.map((o) => `${o.source.role} ${o.object.kind}/${o.object.metadata.name}`),
      [
        'workload Deployment/web',
        'workload-output Service/web',
        'trait HorizontalPodAutoscaler/web-autoscaler',
        'trait Ingress/web-ingress',
      ],
    );
    const deploy = find(app, 'Deployment', 'web')!;
    assert.equal(deploy.metadata.namespace, 'prod');
    assert.deepEqual(deploy.metadata.labels, {
      'app.oam.dev/name': 'shop',
      'app.oam.dev/component': 'web',
      'app.oam.dev/revision': 'web-v3',
      'app.oam.dev/resourceType': 'WORKLOAD',
      'app.kubernetes.io/managed-by': 'trellis',
      'workload.oam.dev/type': 'webservice',
      team: 'a',
    });
    const spec = deploy.spec as {
      replicas?: number;
      template: { metadata: { labels: Record<string, string> }; spec: { containers: { name: string }[] } };
    };
    assert.equal(spec.replicas, undefined, 'the HPA owns replicas');
    assert.deepEqual(
      spec.template.spec.containers.map((c) => c.name),
      ['web', 'log'],
    );
    assert.equal(spec.template.metadata.labels.team, 'a');
    assert.equal(
      deploy.metadata.annotations!['trellis.dev/traits'],
      'web-autoscaler=HorizontalPodAutoscaler.autoscaling/web-autoscaler,web-ingress=Ingress.networking.k8s.io/web-ingress,web-sidecar=patch,web-labels=patch',
    );
    const ingress = find(app, 'Ingress', 'web-ingress')!;
    assert.equal(ingress.metadata.annotations!['trellis.dev/workload'], 'Deployment.apps/web');
    assert.deepEqual(
      (ingress.spec as { rules: { http: { paths: { backend: unknown }[] } }[] }).rules[0].http.paths[0].backend,
      { service: { name: 'web', port: { number: 8080 } } },
    );
    assert.deepEqual(
      (find(app, 'HorizontalPodAutoscaler', 'web-autoscaler')!.spec as { scaleTargetRef: unknown }).scaleTargetRef,
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    );
  });

  it('patches the pod template wherever the workload keeps it (CronJob)', async () => {
    const app = await render([
      { componentName: 'nightly', traits: [{ trait: { name: 'env', properties: { env: { TZ: 'UTC' } } } }] },
    ]);
    const cron = find(app, 'CronJob', 'nightly')!;
    const container = (
      cron.spec as { jobTemplate: { spec: { template: { spec: { containers: { env?: unknown }[] } } } } }
    ).jobTemplate.spec.template.spec.containers[0];
    assert.deepEqual(container.env, [{ name: 'TZ', value: 'UTC' }]);
  });

  it('labels only the object itself when the workload has no pod template', async () => {
    const app = await render([
      { componentName: 'raw', traits: [{ trait: { name: 'labels', properties: { team: 'a' } } }] },
    ]);
    const cm = find(app, 'ConfigMap', 'raw')!;
    assert.equal(cm.metadata.labels!.team, 'a');
    assert.equal((cm as { spec?: unknown }).spec, undefined, 'no pod template invented');
    assert.deepEqual((cm as { data?: unknown }).data, { a: '1' });
  });

  it('sets env in the first container, or in the one named', async () => {
    const app = await render([
      {
        componentName: 'web',
        traits: [
          { trait: { name: 'sidecar', properties: { name: 'log', image: 'fluentbit' } } },
          { trait: { name: 'env', properties: { env: { A: '1' } } } },
          { trait: { name: 'env', properties: { env: { B: '2' }, containerName: 'log' } } },
        ],
      },
    ]);
    const containers = (
      find(app, 'Deployment', 'web')!.spec as { template: { spec: { containers: { name: string; env?: unknown }[] } } }
    ).template.spec.containers;
    assert.deepEqual(
      containers.map((c) => [c.name, c.env]),
      [
        ['web', [{ name: 'A', value: '1' }]],
        ['log', [{ name: 'B', value: '2' }]],
      ],
    );
  });

  it('shares the evaluation of a pod-template trait between workloads that differ elsewhere (a new image re-renders the workload only)', async () => {
    const withImage = (image: string) =>
      staticComponents([component('api', { type: 'webservice', properties: { image } })]);
    const entries = [
      {
        componentName: 'api',
        traits: [
          { trait: { name: 'labels', properties: { tier: 'api' } } },
          { trait: { name: 'env', properties: { env: { MODE: 'x' } } } },
        ],
      },
    ];
    const renderWith = (image: string) =>
      renderApplication({
        appConfig: appConfig(entries),
        components: withImage(image),
        definitions: builtinCatalog(),
        engine,
      });
    await renderWith('api:1');
    const evaluated = engine.stats.evaluated;
    const app = await renderWith('api:2');
    assert.equal(engine.stats.evaluated - evaluated, 1, 'only the webservice template is evaluated again');
    const pod = (
      find(app, 'Deployment', 'api')!.spec as {
        template: {
          metadata: { labels: Record<string, string> };
          spec: { containers: { image: string; env?: unknown }[] };
        };
      }
    ).template;
    assert.equal(pod.metadata.labels.tier, 'api');
    assert.equal(pod.spec.containers[0].image, 'api:2');
    assert.deepEqual(pod.spec.containers[0].env, [{ name: 'MODE', value: 'x' }]);
  });

  it('names two traits of one type distinctly and stably', async () => {
    const app = await render([
      {
        componentName: 'web',
        traits: [
          { trait: { name: 'expose', properties: { ports: [{ port: 8080 }] } } },
          { trait: { name: 'expose', properties: { ports: [{ port: 9090 }], type: 'NodePort' } } },
        ],
      },
    ]);
    assert.deepEqual(
      app.components[0].traits.map((t) => t.name),
      ['web-expose', 'web-expose-2'],
    );
    assert.ok(find(app, 'Service', 'web-expose') && find(app, 'Service', 'web-expose-2'));
  });

  it('answers a repeat from the application cache with the same frozen result; ownCopy gives one to change', async () => {
    const entries = [
      { componentName: 'web', traits: [{ trait: { name: 'ingress', properties: { host: 'a.example.com' } } }] },
    ];
    const first = await render(entries);
    const runs = engine.stats.invocations;
    const ingress = find(first, 'Ingress', 'web-ingress')!;
    const rules = (ingress.spec as { rules: { host: string }[] }).rules;
    assert.throws(() => (rules[0].host = 'changed.example.com'), TypeError, 'a shared result cannot be changed');
    assert.throws(() => (ingress.metadata.ownerReferences = []), TypeError);
    assert.throws(() => first.objects.pop(), TypeError);
    assert.throws(() => ((first.components[0] as { name: string }).name = 'x'), TypeError);

    const mine = ownCopy(first);
    const own = find(mine, 'Ingress', 'web-ingress')!;
    (own.spec as { rules: { host: string }[] }).rules[0].host = 'changed.example.com';
    own.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'X', name: 'x', uid: 'u' }];
    const workload = mine.components[0]!.workload;
    assert.equal(
      mine.objects.find((o) => o.object.kind === 'Deployment'),
      workload,
      'an object listed in components and objects is one copy, seen through both',
    );

    const second = await render(entries);
    assert.equal(engine.stats.invocations, runs, 'no CUE run for an unchanged application');
    assert.equal(second, first, 'the cached result itself, not a copy');
    const again = find(second, 'Ingress', 'web-ingress')!;
    assert.equal((again.spec as { rules: { host: string }[] }).rules[0].host, 'a.example.com');
    assert.equal(again.metadata.ownerReferences, undefined);
  });

  it('freezes a result rendered with live objects too, and leaves the input unfrozen', async () => {
    const input = appConfig([
      { componentName: 'web', traits: [{ trait: { name: 'ingress', properties: { host: 'b.example.com' } } }] },
    ]);
    const app = await renderApplication({
      appConfig: input,
      components: comps,
      definitions: builtinCatalog(),
      engine,
      live: () => undefined,
    });
    assert.ok(Object.isFrozen(find(app, 'Ingress', 'web-ingress')!.metadata));
    assert.ok(!Object.isFrozen(input.spec!.components![0]!.traits![0]!.trait));
    assert.ok(!Object.isFrozen(input.spec!.components!), 'the AppConfig given is not frozen');
  });

  it('leaves the namespace off cluster-scoped objects a template renders', async () => {
    const definitions = layeredSource(
      StaticDefinitionSource.fromObjects([
        {
          apiVersion: 'core.oam.dev/v1alpha2',
          kind: 'TraitDefinition',
          metadata: { name: 'reader' },
          spec: {
            schematic: {
              cue: {
                template:
                  'outputs: role: {apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", rules: []}\n',
              },
            },
          },
        },
      ]),
      builtinCatalog(),
    );
    const app = await renderApplication({
      appConfig: appConfig([{ componentName: 'raw', traits: [{ trait: { name: 'reader' } }] }]),
      components: comps,
      definitions,
      engine,
    });
    const role = find(app, 'ClusterRole', 'raw-reader-role')!;
    assert.equal(role.metadata.namespace, undefined);
    assert.equal(find(app, 'ConfigMap', 'raw')!.metadata.namespace, 'prod');
  });

  describe('bad input', () => {
    it('names an unknown trait type', async () => {
      await assert.rejects(render([{ componentName: 'web', traits: [{ trait: { name: 'scalr', properties: {} } }] }]), {
        code: 'TRL_RENDER_UNKNOWN_DEFINITION',
        message:
          '[TRL_RENDER_UNKNOWN_DEFINITION] ApplicationConfiguration/prod/shop: spec.components[0].traits[0].trait.name: trait "scalr" of component "web": trait type "scalr" has no TraitDefinition',
      });
    });

    it('names the field that named it when the trait type is written as `type`', async () => {
      await assert.rejects(render([{ componentName: 'web', traits: [{ trait: { type: 'scalr', properties: {} } }] }]), {
        code: 'TRL_RENDER_UNKNOWN_DEFINITION',
        field: 'spec.components[0].traits[0].trait.type',
      });
    });

    it('names the parameter of a wrong type, with the expected type and the value given', async () => {
      await assert.rejects(
        render([{ componentName: 'web', traits: [{ trait: { name: 'scaler', properties: { replicas: 'three' } } }] }]),
        {
          code: 'TRL_RENDER_PARAMETER',
          message:
            '[TRL_RENDER_PARAMETER] ApplicationConfiguration/prod/shop: spec.components[0].traits[0].trait.properties: cannot render trait "scaler" of component "web": parameter "replicas": expected int, got "three"',
        },
      );
    });

    it('names a misspelt property of a built-in type, with the names it knows', async () => {
      await assert.rejects(
        render([{ componentName: 'web', traits: [{ trait: { name: 'scaler', properties: { replics: 2 } } }] }]),
        {
          code: 'TRL_RENDER_PARAMETER',
          message:
            '[TRL_RENDER_PARAMETER] ApplicationConfiguration/prod/shop: spec.components[0].traits[0].trait.properties: cannot render trait "scaler" of component "web": unknown parameter "replics" (known here: replicas)',
        },
      );
      await assert.rejects(
        render([
          {
            componentName: 'web',
            traits: [{ trait: { name: 'expose', properties: { ports: [{ port: 80, nodeport: 30080 }] } } }],
          },
        ]),
        /unknown parameter "ports\[0\]\.nodeport" \(known here: port, targetPort, name, protocol, nodePort\)/,
      );
    });

    it('names a required parameter left out', async () => {
      await assert.rejects(
        render([{ componentName: 'web', traits: [{ trait: { name: 'sidecar', properties: { image: 'x' } } }] }]),
        /cannot render trait "sidecar" of component "web": parameter "name" is required$/,
      );
    });

    it('refuses a trait the workload does not accept', async () => {
      await assert.rejects(
        render([{ componentName: 'nightly', traits: [{ trait: { name: 'autoscaler', properties: {} } }] }]),
        (err: Error) => {
          assert.match(
            err.message,
            /^\[TRL_BIND_NOT_APPLICABLE\] ApplicationConfiguration\/prod\/shop: spec\.components\[0\]\.traits\[0\]: trait "autoscaler" cannot be applied to component "nightly": TraitDefinition\/autoscaler applies to deployments\.apps, statefulsets\.apps, replicasets\.apps, and the workload is cronjob \(CronJob\.batch\)$/,
          );
          return true;
        },
      );
      await assert.rejects(
        render([{ componentName: 'raw', traits: [{ trait: { name: 'scaler', properties: { replicas: 2 } } }] }]),
        /TRL_BIND_NOT_APPLICABLE.*it sets spec\.replicas, and ConfigMap\/raw has no spec\.replicas/,
      );
    });

    it('refuses conflicting traits', async () => {
      await assert.rejects(
        render([
          {
            componentName: 'web',
            traits: [{ trait: { name: 'scaler', properties: {} } }, { trait: { name: 'autoscaler', properties: {} } }],
          },
        ]),
        {
          code: 'TRL_BIND_TRAIT_CONFLICT',
          message:
            '[TRL_BIND_TRAIT_CONFLICT] ApplicationConfiguration/prod/shop: spec.components[0].traits: traits "scaler" and "autoscaler" of component "web" conflict: TraitDefinition/scaler lists "autoscaler" in conflictsWith',
        },
      );
    });

    it('names a missing Component', async () => {
      await assert.rejects(render([{ componentName: 'ghost' }]), {
        code: 'TRL_RENDER_COMPONENT_MISSING',
        message:
          '[TRL_RENDER_COMPONENT_MISSING] ApplicationConfiguration/prod/shop: spec.components[0].componentName: component "ghost" does not exist',
      });
    });
  });
});
