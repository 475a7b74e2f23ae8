import assert from 'node:assert/strict';
import type { KubeObject } from '../kube/types.js';
import { combineHealth, objectHealth } from './health.js';

const obj = (kind: string, spec: object, status: object, generation = 1): KubeObject => ({
  apiVersion: 'apps/v1',
  kind,
  metadata: { name: 'x', generation },
  spec,
  status,
});

describe('status: objectHealth', () => {
  it('Deployment: healthy when the current generation has every replica updated, ready and available', () => {
    assert.deepEqual(
      objectHealth(
        obj(
          'Deployment',
          { replicas: 3 },
          { observedGeneration: 1, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 },
        ),
      ),
      { status: 'HEALTHY', message: '3/3 ready' },
    );
    assert.deepEqual(
      objectHealth(
        obj(
          'Deployment',
          { replicas: 3 },
          { observedGeneration: 1, updatedReplicas: 3, readyReplicas: 1, availableReplicas: 1 },
        ),
      ),
      { status: 'UNHEALTHY', message: '1/3 ready' },
    );
    assert.deepEqual(
      objectHealth(
        obj(
          'Deployment',
          { replicas: 3 },
          { observedGeneration: 1, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 },
          2,
        ),
      ),
      { status: 'UNHEALTHY', message: 'rollout of generation 2 not observed yet' },
    );
    assert.deepEqual(
      objectHealth(obj('Deployment', {}, { observedGeneration: 1, updatedReplicas: 0 })),
      { status: 'UNHEALTHY', message: '0/1 replicas updated' },
      'replicas defaults to 1',
    );
    assert.equal(objectHealth(obj('Deployment', { replicas: 0 }, { observedGeneration: 1 })).message, 'scaled to zero');
  });

  it('StatefulSet waits for the update revision; Job is judged by completion or failure', () => {
    assert.deepEqual(
      objectHealth(
        obj(
          'StatefulSet',
          { replicas: 2 },
          { observedGeneration: 1, readyReplicas: 2, currentRevision: 'a', updateRevision: 'b' },
        ),
      ),
      { status: 'UNHEALTHY', message: 'rolling out b' },
    );
    assert.equal(
      objectHealth(obj('Job', {}, { conditions: [{ type: 'Complete', status: 'True' }], succeeded: 1 })).status,
      'HEALTHY',
    );
    assert.deepEqual(
      objectHealth(
        obj('Job', {}, { conditions: [{ type: 'Failed', status: 'True', message: 'BackoffLimitExceeded' }] }),
      ),
      { status: 'UNHEALTHY', message: 'failed: BackoffLimitExceeded' },
    );
    assert.equal(objectHealth(obj('Job', {}, { active: 1, ready: 1 })).status, 'HEALTHY');
  });

  it('uses a Ready condition when a kind has one, and treats kinds without a rule as healthy while they exist', () => {
    assert.deepEqual(
      objectHealth({
        apiVersion: 'example.com/v1',
        kind: 'Foo',
        metadata: { name: 'f' },
        status: { conditions: [{ type: 'Ready', status: 'False', reason: 'Waiting' }] },
      }),
      { status: 'UNHEALTHY', message: 'Waiting' },
    );
    assert.deepEqual(objectHealth({ apiVersion: 'example.com/v1', kind: 'Foo', metadata: { name: 'f' } }), {
      status: 'HEALTHY',
      message: 'exists',
    });
    assert.deepEqual(objectHealth(undefined), { status: 'UNKNOWN', message: 'not found' });
  });

  it('combineHealth: any unhealthy part makes the whole unhealthy and is named', () => {
    const ok = { status: 'HEALTHY' as const, message: '1/1 ready' };
    const bad = { status: 'UNHEALTHY' as const, message: '0/2 ready' };
    assert.deepEqual(
      combineHealth([
        { name: 'Deployment/web', health: ok },
        { name: 'Deployment/db', health: bad },
      ]),
      { status: 'UNHEALTHY', message: 'Deployment/db: 0/2 ready' },
    );
    assert.deepEqual(combineHealth([{ name: 'Deployment/web', health: ok }]), ok);
    assert.equal(
      combineHealth([
        { name: 'a', health: ok },
        { name: 'b', health: { status: 'UNKNOWN', message: 'not found' } },
      ]).status,
      'UNKNOWN',
    );
  });
});

describe('status: workloadHealth', () => {
  it('is unhealthy until the workload created what runs it, even when its Service exists', async () => {
    const { workloadHealth } = await import('./workload-health.js');
    const cw: KubeObject = {
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ContainerizedWorkload',
      metadata: { name: 'web', namespace: 'n', uid: 'u' },
    };
    const kinds = [
      { apiVersion: 'apps/v1', kind: 'Deployment' },
      { apiVersion: 'v1', kind: 'Service' },
    ];
    const service: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' } };
    const deployment = obj(
      'Deployment',
      { replicas: 1 },
      { observedGeneration: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 },
    );
    const reader = (children: KubeObject[]) => ({
      children: async (k: { kind: string }) => children.filter((c) => c.kind === k.kind),
    });
    assert.deepEqual(await workloadHealth(cw, kinds, reader([service])), {
      status: 'UNHEALTHY',
      message: 'ContainerizedWorkload/web has not created its Deployment yet',
    });
    assert.equal((await workloadHealth(cw, kinds, reader([service, deployment]))).status, 'HEALTHY');
    assert.deepEqual(await workloadHealth(undefined, kinds, reader([])), {
      status: 'UNKNOWN',
      message: 'workload not found',
    });
  });
});
