import assert from 'node:assert/strict';
import type { KubeObject } from '../kube/types.js';
import { placeNamespace, stamp } from './metadata.js';

const configMap = (namespace?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'leak', ...(namespace ? { namespace } : {}) },
});
const source = {
  component: 'web',
  role: 'trait-output' as const,
  trait: 'web-leaky',
  definition: 'TraitDefinition/leaky',
};
const allowing = (value: string) => ({ metadata: { annotations: { 'trellis.dev/allowed-namespaces': value } } });

describe('render: where objects go', () => {
  it("puts objects in the application's namespace, and keeps a namespace asked for only when the definition allows it", () => {
    assert.equal(placeNamespace(configMap(), { namespace: 'shop', source }), 'shop');
    assert.equal(placeNamespace(configMap('shop'), { namespace: 'shop', source }), 'shop');
    assert.equal(
      placeNamespace(configMap('monitoring'), {
        namespace: 'shop',
        source,
        definition: allowing('logging, monitoring'),
      }),
      'monitoring',
    );
    assert.equal(
      placeNamespace(configMap('anywhere'), { namespace: 'shop', source, definition: allowing('*') }),
      'anywhere',
    );
    assert.equal(
      stamp(configMap('monitoring'), { appName: 'a', namespace: 'shop', source, definition: allowing('monitoring') })
        .metadata.namespace,
      'monitoring',
    );
  });

  it('refuses another namespace, naming the object, the namespace asked for and the definition', () => {
    assert.throws(
      () =>
        stamp(configMap('kube-system'), {
          appName: 'a',
          namespace: 'shop',
          source,
          definition: allowing('monitoring'),
        }),
      {
        code: 'TRL_RENDER_NAMESPACE',
        message:
          '[TRL_RENDER_NAMESPACE] ConfigMap/leak: metadata.namespace: asks for namespace "kube-system" outside the application\'s namespace "shop", which TraitDefinition/leaky may not write to; nothing was created — an operator may allow it with the annotation trellis.dev/allowed-namespaces: "kube-system" on TraitDefinition/leaky',
      },
    );
    assert.throws(
      () => placeNamespace(configMap('other'), { namespace: 'shop', source: { component: 'web', role: 'workload' } }),
      /which the workload of component "web" may not write to; nothing was created — remove metadata.namespace from it$/,
    );
  });
});
