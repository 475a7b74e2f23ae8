import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Application } from '../../apis/generated/core.oam.dev-v1beta1.js';
import { CueEngine } from '../../cue/index.js';
import { StaticDefinitionSource } from '../../definitions/index.js';
import { isTrellisError } from '../../lib/errors.js';
import type { KubeObject } from '../../kube/types.js';
import type { LiveObjects } from '../../render/types.js';
import { KUBEVELA, kubevelaDefinitions } from '../testdata/kubevela-cases.js';
import { renderVelaApplication } from './render-vela.js';

type Env = { name: string; value?: string }[];
const envOf = (o: KubeObject) =>
  (o.spec as { template: { spec: { containers: { env?: Env }[] } } }).template.spec.containers[0]!.env;

/**
 * KubeVela's inputs/outputs between components (its docs, "Dependency and Data Passing"): an
 * output's `valueFrom` is CUE over `output` (the producer's workload as it is in the cluster), an
 * input's `parameterKey` sets it into the consumer's properties; the consumer is not rendered until
 * the value exists. `live` here is what the controller's informers hold.
 */
describe('KubeVela data passing: component inputs/outputs', () => {
  let engine: CueEngine;
  let definitions: StaticDefinitionSource;
  before(function () {
    if (!existsSync(KUBEVELA)) this.skip();
    engine = new CueEngine({ engine: 'native' });
    definitions = StaticDefinitionSource.fromObjects(kubevelaDefinitions());
  });
  after(() => engine?.stop());

  const application = (valueFrom: string, parameterKey = 'properties.env[0].value'): Application => ({
    apiVersion: 'core.oam.dev/v1beta1',
    kind: 'Application',
    metadata: { name: 'shop', namespace: 'team' },
    spec: {
      components: [
        {
          name: 'web',
          type: 'webservice',
          properties: { image: 'web:1', env: [{ name: 'DB' }] },
          inputs: [{ from: 'db-host', parameterKey }],
        },
        {
          name: 'db',
          type: 'webservice',
          properties: { image: 'postgres:16' },
          outputs: [{ name: 'db-host', valueFrom }],
        },
      ],
    },
  });
  /** The cluster holding the objects given, by kind and name. */
  const cluster =
    (...objects: KubeObject[]): LiveObjects =>
    (ref) =>
      objects.find((o) => o.kind === ref.kind && o.metadata.name === ref.name);
  const db = (extra: Partial<KubeObject> & { status?: unknown } = {}): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'db', namespace: 'team', ...extra.metadata },
    ...(extra.status ? { status: extra.status } : {}),
  });
  const render = (app: Application, live?: LiveObjects) =>
    renderVelaApplication({ application: app, definitions, engine, ...(live ? { live } : {}) });
  const names = (r: Awaited<ReturnType<typeof render>>) =>
    r.app.objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`);

  it('renders the producer first; the consumer waits while its workload is not in the cluster', async () => {
    const r = await render(application('output.metadata.name + ".team.svc.cluster.local"'));
    assert.deepEqual(names(r), ['Deployment/db']);
    assert.deepEqual(r.pending, [
      {
        component: 'web',
        from: 'db-host',
        producer: 'db',
        reason: `component "db"'s workload is not in the cluster yet`,
      },
    ]);
  });

  it("sets the value, computed from the producer's live workload, at parameterKey (with or without properties.)", async () => {
    for (const key of ['properties.env[0].value', 'env[0].value']) {
      const r = await render(application('output.metadata.name + ".team.svc.cluster.local"', key), cluster(db()));
      assert.deepEqual(r.pending, []);
      assert.deepEqual(names(r), ['Deployment/web', 'Deployment/db'], 'components in the Application’s order');
      const web = r.app.objects.find((o) => o.object.metadata.name === 'web')!.object;
      assert.deepEqual(envOf(web), [{ name: 'DB', value: 'db.team.svc.cluster.local' }], key);
    }
  });

  it('waits for a status field that is not there yet, saying which, then takes it', async () => {
    const app = application('"replicas-\\(output.status.readyReplicas)"');
    const waiting = await render(app, cluster(db()));
    assert.equal(waiting.pending.length, 1);
    assert.match(
      waiting.pending[0]!.reason,
      /^output "db-host" of component "db" has no value yet \(valueFrom: "replicas-\\\(output\.status\.readyReplicas\)"\): /,
    );
    const ready = await render(app, cluster(db({ status: { readyReplicas: 2 } })));
    const web = ready.app.objects.find((o) => o.object.metadata.name === 'web')!.object;
    assert.equal(envOf(web)![0]!.value, 'replicas-2');
  });

  it('a plain word is the value itself (KubeVela: valueFrom: testString)', async () => {
    const r = await render(application('testString'), cluster(db()));
    const web = r.app.objects.find((o) => o.object.metadata.name === 'web')!.object;
    assert.equal(envOf(web)![0]!.value, 'testString');
  });

  it('an input no output names, or a valueFrom that does not compile, is refused naming the field', async () => {
    const unknown = application('testString');
    unknown.spec.components[0]!.inputs = [{ from: 'db-hots', parameterKey: 'env[0].value' }];
    await assert.rejects(render(unknown), (err: unknown) => {
      assert.ok(isTrellisError(err, 'TRL_APP_COMPONENT'), String(err));
      assert.equal(err.object, 'Application/team/shop');
      assert.equal(err.field, 'spec.components[0].inputs[0].from');
      assert.match(err.reason, /takes input "db-hots", which no component's outputs name \(outputs: db-host\)/);
      return true;
    });
    await assert.rejects(render(application('output.metadata.name +'), cluster(db())), (err: unknown) => {
      assert.ok(isTrellisError(err, 'TRL_APP_COMPONENT'), String(err));
      assert.equal(err.field, 'spec.components[1].outputs[0].valueFrom');
      return true;
    });
  });
});
