import assert from 'node:assert/strict';
import { CueEngine } from '../cue/index.js';
import { policyHealth } from './health-policy.js';

describe('status: policyHealth (a definition\'s CUE health policy)', function () {
  this.timeout(60_000);
  const engine = new CueEngine({ workers: 1 });
  after(() => engine.stop());
  const policy = {
    healthPolicy: 'isHealth: context.output.status.readyReplicas == context.output.spec.replicas',
    customStatus: 'message: "Ready: \\(context.output.status.readyReplicas)/\\(context.output.spec.replicas)"',
  };
  const deployment = (ready: number) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 3 }, status: { readyReplicas: ready } });

  it('is healthy when the policy says isHealth, with the custom message', async () => {
    assert.deepEqual(await policyHealth(engine, policy, deployment(3)), { status: 'HEALTHY', message: 'Ready: 3/3' });
    assert.deepEqual(await policyHealth(engine, policy, deployment(1)), { status: 'UNHEALTHY', message: 'Ready: 1/3' });
  });

  it('has nothing to say without a policy, and reports a broken one as UNKNOWN', async () => {
    assert.equal(await policyHealth(engine, undefined, deployment(1)), undefined);
    const broken = await policyHealth(engine, { healthPolicy: 'isHealth: context.output.status.nope.deeper == 1' }, deployment(1));
    assert.equal(broken?.status, 'UNKNOWN');
    assert.match(broken?.message ?? '', /^health policy failed: /);
  });
});
