import assert from 'node:assert/strict';
import { desiredRoutes, routeWeights } from './route.js';
import type { Rollout } from './types.js';

const rollout = (spec: Partial<Rollout['spec']> = {}): Rollout => ({
  apiVersion: 'delivery.trellis.dev/v1alpha1',
  kind: 'Rollout',
  metadata: { name: 'web-rollout', namespace: 'shop', uid: 'u-1', labels: { 'app.oam.dev/name': 'shop' } },
  spec: {
    component: 'web',
    port: 8080,
    route: { parentRefs: [{ name: 'public' }], hostnames: ['shop.example.com'], path: '/api' },
    ...spec,
  },
});

describe('rollout routes: desiredRoutes()', () => {
  it('one rule with a weighted backendRef per revision Service, the parents and hosts given, owned by the Rollout', () => {
    const { main, preview } = desiredRoutes(
      rollout(),
      [
        { revision: 'web-v1', weight: 80 },
        { revision: 'web-v2', weight: 20 },
      ],
      undefined,
    );
    assert.equal(preview, undefined);
    assert.equal(main.metadata.name, 'web');
    assert.deepEqual(main.metadata.labels, {
      'app.oam.dev/name': 'shop',
      'app.oam.dev/component': 'web',
      'app.kubernetes.io/managed-by': 'trellis',
    });
    assert.deepEqual(main.metadata.ownerReferences, [
      {
        apiVersion: 'delivery.trellis.dev/v1alpha1',
        kind: 'Rollout',
        name: 'web-rollout',
        uid: 'u-1',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    assert.deepEqual(main.spec, {
      parentRefs: [{ name: 'public' }],
      hostnames: ['shop.example.com'],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/api' } }],
          backendRefs: [
            { name: 'web-v1', port: 8080, weight: 80 },
            { name: 'web-v2', port: 8080, weight: 20 },
          ],
        },
      ],
    });
    assert.deepEqual(routeWeights(main), [
      { revision: 'web-v1', weight: 80 },
      { revision: 'web-v2', weight: 20 },
    ]);
  });

  it('a blue-green preview gets a route of its own on the preview host names', () => {
    const r = rollout({
      strategy: 'blueGreen',
      blueGreen: { previewHostnames: ['preview.shop.example.com'] },
      route: { name: 'front' },
    });
    const { main, preview, previewName } = desiredRoutes(
      r,
      [
        { revision: 'web-v1', weight: 100 },
        { revision: 'web-v2', weight: 0 },
      ],
      'web-v2',
    );
    assert.equal(main.metadata.name, 'front');
    assert.equal(previewName, 'front-preview');
    assert.deepEqual((preview?.spec as { hostnames: string[] }).hostnames, ['preview.shop.example.com']);
    assert.deepEqual(routeWeights(preview), [{ revision: 'web-v2', weight: 100 }]);
    assert.equal(desiredRoutes(r, [], undefined).preview, undefined, 'no preview route when nothing is previewed');
  });
});
