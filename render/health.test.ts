import assert from 'node:assert/strict';
import { builtinCatalog } from '../definitions/index.js';
import type { KubeObject } from '../kube/types.js';
import { CueEngine } from '../cue/index.js';
import { evaluateHealth } from './health.js';

const deployment = (status?: Record<string, unknown>, replicas = 3): KubeObject => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' }, spec: { replicas }, ...(status ? { status } : {}) });

describe('render: evaluateHealth (definition healthPolicy / customStatus on the live object)', () => {
  let engine: CueEngine;
  before(() => {
    engine = new CueEngine({ workers: 1 });
  });
  after(() => engine.stop());

  it('webservice: healthy once every wanted replica is ready, with a custom message', async () => {
    const def = await builtinCatalog().workloadDefinition('webservice');
    assert.deepEqual(await evaluateHealth(def, deployment({ readyReplicas: 3 }), engine), { healthy: true, message: 'Ready: 3' });
    assert.deepEqual(await evaluateHealth(def, deployment({ readyReplicas: 1 }), engine), { healthy: false, message: 'Ready: 1' });
    assert.deepEqual(await evaluateHealth(def, deployment(), engine), { healthy: false, message: 'Ready: 0' }, 'no status yet');
  });

  it('a definition without a health policy says nothing', async () => {
    assert.deepEqual(await evaluateHealth(await builtinCatalog().traitDefinition('scaler'), deployment({}), engine), {});
  });

  it('a policy that cannot be decided is unhealthy, with the reason; one that does not compile is an error', async () => {
    const def = { apiVersion: 'core.oam.dev/v1alpha2' as const, kind: 'WorkloadDefinition' as const, metadata: { name: 'x' }, spec: { status: { healthPolicy: 'isHealth: context.output.status.phase == "Running"' } } };
    const result = await evaluateHealth(def, deployment(), engine);
    assert.equal(result.healthy, false);
    assert.match(result.message!, /^health policy of WorkloadDefinition\/x could not be decided: isHealth: /);
    const broken = { ...def, spec: { status: { healthPolicy: 'isHealth: (' } } };
    await assert.rejects(evaluateHealth(broken, deployment(), engine), /\[TRL_DEFINITION_TEMPLATE\] WorkloadDefinition\/x: spec\.status\.healthPolicy: healthPolicy does not compile/);
  });
});
