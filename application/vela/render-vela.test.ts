import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Application } from '../../apis/generated/core.oam.dev-v1beta1.js';
import { CueEngine } from '../../cue/index.js';
import { StaticDefinitionSource } from '../../definitions/index.js';
import { isTrellisError } from '../../lib/errors.js';
import type { KubeObject } from '../../kube/types.js';
import { KUBEVELA, kubevelaDefinitions } from '../testdata/kubevela-cases.js';
import { renderVelaApplication } from './render-vela.js';
import { workflowSteps } from './workflow.js';

const app = (spec: Application['spec'], metadata: Application['metadata'] = {}): Application => ({
  apiVersion: 'core.oam.dev/v1beta1',
  kind: 'Application',
  metadata: { name: 'shop', namespace: 'team', ...metadata },
  spec,
});
const web = (
  properties: Record<string, unknown> = { image: 'nginx:1.27' },
  traits: { type: string; properties?: Record<string, unknown> }[] = [],
) => ({ name: 'web', type: 'webservice', properties, traits });
const rejectsWith = (p: Promise<unknown>, code: string, field: string, message: RegExp) =>
  assert.rejects(p, (err: unknown) => {
    assert.ok(isTrellisError(err, code), String(err));
    assert.equal(err.object, 'Application/team/shop');
    assert.equal(err.field, field);
    assert.match(err.message, message);
    return true;
  });

describe('renderVelaApplication (KubeVela Application → the AppConfig pipeline)', () => {
  let engine: CueEngine;
  let definitions: StaticDefinitionSource;
  const render = (application: Application, options: { revision?: number; clusterVersion?: string } = {}) =>
    renderVelaApplication({ application, definitions, engine, ...options });
  const byKind = (objects: { object: KubeObject }[], kind: string) =>
    objects.map((o) => o.object).find((o) => o.kind === kind)!;
  before(function () {
    if (!existsSync(KUBEVELA)) this.skip();
    engine = new CueEngine({ engine: 'native' });
    definitions = StaticDefinitionSource.fromObjects(kubevelaDefinitions());
  });
  after(() => engine?.stop());

  it("passes the Application's labels and annotations to every object, and names its revision (app.oam.dev/appRevision)", async () => {
    const application = app(
      { components: [web({ image: 'nginx', ports: [{ port: 80, expose: true }] })] },
      {
        labels: { team: 'a' },
        annotations: { owner: 'ops', 'app.oam.dev/filter-annotation-keys': 'secret-note', 'secret-note': 'x' },
      },
    );
    const { app: rendered } = await render(application, { revision: 3 });
    assert.equal(rendered.objects.length, 2, 'a Deployment and the webserviceExpose Service');
    for (const { object } of rendered.objects) {
      assert.equal(object.metadata.labels!.team, 'a');
      assert.equal(object.metadata.labels!['app.oam.dev/appRevision'], 'shop-v3');
      assert.equal(object.metadata.annotations!.owner, 'ops');
      assert.ok(!('secret-note' in object.metadata.annotations!), 'filtered by app.oam.dev/filter-annotation-keys');
    }
    // KubeVela labels a workload's outputs as auxiliary trait resources.
    const svc = byKind(rendered.objects, 'Service');
    assert.deepEqual(
      [
        svc.metadata.labels!['app.oam.dev/resourceType'],
        svc.metadata.labels!['trait.oam.dev/type'],
        svc.metadata.labels!['trait.oam.dev/resource'],
      ],
      ['TRAIT', 'AuxiliaryWorkload', 'webserviceExpose'],
    );
  });

  it('context.clusterVersion follows the cluster: hpa renders autoscaling/v2 on 1.36, v2beta2 before 1.23', async () => {
    const application = app({ components: [web(undefined, [{ type: 'hpa', properties: { max: 5 } }])] });
    const now = byKind((await render(application)).app.objects, 'HorizontalPodAutoscaler');
    const old = byKind(
      (await render(application, { clusterVersion: 'v1.22.4' })).app.objects,
      'HorizontalPodAutoscaler',
    );
    assert.deepEqual(
      [now.apiVersion, now.metadata.name, old.apiVersion],
      ['autoscaling/v2', 'web', 'autoscaling/v2beta2'],
    );
    assert.equal(now.metadata.labels!['trait.oam.dev/resource'], 'hpa');
  });

  it('override policy: merges properties, adds a trait, and disables one', async () => {
    const application = app({
      components: [
        web({ image: 'nginx:1.27', cmd: ['nginx'] }, [
          { type: 'scaler', properties: { replicas: 2 } },
          { type: 'labels', properties: { tier: 'web' } },
        ]),
      ],
      policies: [
        {
          name: 'prod',
          type: 'override',
          properties: {
            components: [
              {
                name: 'web',
                properties: { image: 'nginx:1.28' },
                traits: [
                  { type: 'scaler', properties: { replicas: 5 } },
                  { type: 'labels', disable: true },
                ],
              },
            ],
          },
        },
      ],
    });
    const d = (await render(application)).app.objects[0].object as KubeObject & {
      spec: { replicas: number; template: { spec: { containers: { image: string; command: string[] }[] } } };
    };
    assert.equal(d.spec.replicas, 5);
    assert.deepEqual(
      [d.spec.template.spec.containers[0].image, d.spec.template.spec.containers[0].command],
      ['nginx:1.28', ['nginx']],
    );
    assert.ok(!('tier' in d.metadata.labels!), 'the labels trait was disabled');
  });

  it('refuses a policy type Trellis does not run, and a topology beyond the local cluster, naming the policy', async () => {
    await rejectsWith(
      render(app({ components: [web()], policies: [{ name: 'r', type: 'replication', properties: {} }] })),
      'TRL_APP_POLICY',
      'spec.policies[0].type',
      /policy "r" has type "replication", which Trellis does not run/,
    );
    await rejectsWith(
      render(
        app({
          components: [web()],
          policies: [{ name: 'where', type: 'topology', properties: { clusters: ['local', 'prod-eu'] } }],
        }),
      ),
      'TRL_APP_POLICY',
      'spec.policies[0].properties',
      /names clusters "prod-eu": Trellis deploys to the cluster it runs in only/,
    );
    const local = await render(
      app({
        components: [web()],
        policies: [{ name: 'where', type: 'topology', properties: { clusters: ['local'] } }],
      }),
    );
    assert.equal(local.app.objects[0].object.kind, 'Deployment');
  });

  it("names the Application and its fields in render errors: a bad property, an unknown type, a trait's own errs", async () => {
    await rejectsWith(
      render(app({ components: [web({ image: 3 })] })),
      'TRL_RENDER_PARAMETER',
      'spec.components[0].properties',
      /parameter "image"/,
    );
    await rejectsWith(
      render(app({ components: [{ name: 'web', type: 'webservicez', properties: {} }] })),
      'TRL_RENDER_UNKNOWN_DEFINITION',
      'spec.components[0].type',
      /workload type "webservicez" has no ComponentDefinition/,
    );
    await rejectsWith(
      render(
        app({
          components: [web(undefined, [{ type: 'env', properties: { containerName: 'nope', env: { A: 'b' } } }])],
        }),
      ),
      'TRL_RENDER_TEMPLATE',
      'spec.components[0].traits[0].properties',
      /container nope not found/,
    );
    await rejectsWith(
      render(app({ components: [web(), web()] })),
      'TRL_APP_COMPONENT',
      'spec.components[1].name',
      /two components are named "web"/,
    );
  });

  it('workflow: deploy, apply-component and suspend run; any other step type is refused before anything is applied', async () => {
    const steps = workflowSteps(
      app({
        components: [web(), { name: 'db', type: 'worker', properties: { image: 'redis' } }],
        workflow: {
          steps: [
            { name: 'db-first', type: 'apply-component', properties: { component: 'db' } },
            { name: 'check', type: 'suspend' },
            { name: 'rest', type: 'deploy', properties: { policies: [] } },
          ],
        },
      }),
    );
    assert.deepEqual(
      steps.map((s) => [s.type, 'components' in s ? s.components : []]),
      [
        ['apply-component', ['db']],
        ['suspend', []],
        ['deploy', ['web', 'db']],
      ],
    );
    assert.deepEqual(
      workflowSteps(app({ components: [web()] })),
      [{ name: 'deploy', type: 'deploy', components: ['web'] }],
      'no workflow: KubeVela deploys every component',
    );
    await rejectsWith(
      render(app({ components: [web()], workflow: { steps: [{ name: 'tell', type: 'notification' }] } })),
      'TRL_APP_WORKFLOW_STEP',
      'spec.workflow.steps[0].type',
      /"notification", which needs KubeVela's workflow engine/,
    );
    await rejectsWith(
      render(
        app({
          components: [web()],
          workflow: { steps: [{ name: 'one', type: 'apply-component', properties: { component: 'api' } }] },
        }),
      ),
      'TRL_APP_WORKFLOW_STEP',
      'spec.workflow.steps[0].properties.component',
      /"api" names no component/,
    );
  });
});
