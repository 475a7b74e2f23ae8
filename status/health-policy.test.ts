import assert from 'node:assert/strict';
import type { WorkloadDefinition } from '../apis/generated/core.oam.dev-v1alpha2.js';
import { builtinCatalog } from '../definitions/index.js';
import type { KubeObject } from '../kube/types.js';
import { CueEngine } from '../cue/index.js';
import { policyHealth } from './health-policy.js';

const definition = (status: { healthPolicy?: string; customStatus?: string }): WorkloadDefinition => ({
  apiVersion: 'core.oam.dev/v1alpha2',
  kind: 'WorkloadDefinition',
  metadata: { name: 'x' },
  spec: { status },
});
const deployment = (status?: Record<string, unknown>, replicas = 3): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop' },
  spec: { replicas },
  ...(status ? { status } : {}),
});

describe("status: policyHealth (a definition's CUE health policy on the live object)", function () {
  this.timeout(60_000);
  const engine = new CueEngine({ workers: 1 });
  after(() => engine.stop());
  const policy = definition({
    healthPolicy: 'isHealth: context.output.status.readyReplicas == context.output.spec.replicas',
    customStatus:
      'message: "Ready: \\(context.output.status.readyReplicas)/\\(context.output.spec.replicas) in \\(context.namespace)"',
  });

  it('is healthy when the policy says isHealth, with the custom message (context.output, context.namespace)', async () => {
    assert.deepEqual(await policyHealth(engine, policy, deployment({ readyReplicas: 3 })), {
      status: 'HEALTHY',
      message: 'Ready: 3/3 in shop',
    });
    assert.deepEqual(await policyHealth(engine, policy, deployment({ readyReplicas: 1 })), {
      status: 'UNHEALTHY',
      message: 'Ready: 1/3 in shop',
    });
  });

  it('webservice (built-in): healthy once every wanted replica is ready; "Ready: 0" before any status', async () => {
    const webservice = await builtinCatalog().workloadDefinition('webservice');
    assert.deepEqual(await policyHealth(engine, webservice, deployment({ readyReplicas: 3 })), {
      status: 'HEALTHY',
      message: 'Ready: 3',
    });
    assert.deepEqual(await policyHealth(engine, webservice, deployment()), {
      status: 'UNHEALTHY',
      message: 'Ready: 0',
    });
  });

  it('evaluates nothing again for a new version of the object that changed nothing the policy reads', async () => {
    const webservice = await builtinCatalog().workloadDefinition('webservice');
    const v1 = { ...deployment({ observedGeneration: 1 }, 0), metadata: { name: 'a', resourceVersion: '1' } };
    assert.equal((await policyHealth(engine, webservice, v1))?.status, 'HEALTHY');
    const evaluated = engine.stats.evaluated;
    // kube-controller-manager's status echo: new resourceVersion, other status fields, another name.
    const v2 = {
      ...deployment({ observedGeneration: 2, conditions: [{ type: 'Progressing', status: 'True' }] }, 0),
      metadata: { name: 'b', resourceVersion: '2' },
    };
    assert.deepEqual(await policyHealth(engine, webservice, v2), { status: 'HEALTHY', message: 'Ready: 0' });
    assert.equal(engine.stats.evaluated, evaluated);
    // What it reads changed: evaluated, and the verdict follows.
    assert.deepEqual(await policyHealth(engine, webservice, deployment({ readyReplicas: 1 }, 2)), {
      status: 'UNHEALTHY',
      message: 'Ready: 1',
    });
    assert.ok(engine.stats.evaluated > evaluated);
  });

  it('has nothing to say without a policy; a missing object is UNKNOWN', async () => {
    assert.equal(
      await policyHealth(engine, await builtinCatalog().traitDefinition('scaler'), deployment({})),
      undefined,
    );
    assert.equal(await policyHealth(engine, undefined, deployment({})), undefined);
    assert.deepEqual(await policyHealth(engine, policy, undefined), { status: 'UNKNOWN', message: 'not found' });
  });

  it('a policy that cannot be decided is UNHEALTHY with the reason; a non-bool isHealth says so', async () => {
    const undecided = await policyHealth(
      engine,
      definition({ healthPolicy: 'isHealth: context.output.status.phase == "Running"' }),
      deployment(),
    );
    assert.equal(undecided?.status, 'UNHEALTHY');
    assert.match(undecided?.message ?? '', /^health policy of WorkloadDefinition\/x could not be decided: /);
    assert.deepEqual(await policyHealth(engine, definition({ healthPolicy: 'isHealth: "yes"' }), deployment()), {
      status: 'UNHEALTHY',
      message: 'health policy of WorkloadDefinition/x sets isHealth to "yes", not a bool',
    });
  });

  it('a policy that does not compile is UNKNOWN, naming the definition and the field', async () => {
    const broken = await policyHealth(engine, definition({ healthPolicy: 'isHealth: (' }), deployment());
    assert.equal(broken?.status, 'UNKNOWN');
    assert.match(broken?.message ?? '', /^WorkloadDefinition\/x: spec\.status\.healthPolicy does not compile: /);
  });
});
