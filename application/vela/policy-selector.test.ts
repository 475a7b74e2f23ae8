import assert from 'node:assert/strict';
import type { RenderedObject } from '../../render/types.js';
import { selectorOf, selects } from './policy-selector.js';

const components = [
  { name: 'web', type: 'webservice' },
  { name: 'config', type: 'k8s-objects' },
];
const cm: RenderedObject = {
  object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' } },
  source: { component: 'config', role: 'workload', definition: 'ComponentDefinition/k8s-objects' },
};
const svc: RenderedObject = {
  object: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' } },
  source: { component: 'web', role: 'trait-output', definition: 'TraitDefinition/expose', trait: 'web-expose' },
};

describe('application/vela/policy-selector: KubeVela rule selectors', () => {
  it('every field given must match; each lists alternatives', () => {
    assert.equal(selects(selectorOf({ selector: { resourceTypes: ['ConfigMap', 'Secret'] } }), cm, components), true);
    assert.equal(selects(selectorOf({ selector: { resourceTypes: ['Secret'] } }), cm, components), false);
    const both = selectorOf({ selector: { resourceTypes: ['ConfigMap'], componentNames: ['web'] } });
    assert.equal(selects(both, cm, components), false);
    assert.equal(selects(selectorOf({ selector: { componentTypes: ['k8s-objects'] } }), cm, components), true);
    assert.equal(selects(selectorOf({ selector: { resourceNames: ['settings'] } }), cm, components), true);
  });

  it('traitTypes and oamTypes tell trait objects from component objects', () => {
    assert.equal(selects(selectorOf({ selector: { traitTypes: ['expose'] } }), svc, components), true);
    assert.equal(selects(selectorOf({ selector: { traitTypes: ['expose'] } }), cm, components), false);
    assert.equal(selects(selectorOf({ selector: { oamTypes: ['TRAIT'] } }), svc, components), true);
    assert.equal(selects(selectorOf({ selector: { oamTypes: ['COMPONENT'] } }), svc, components), false);
  });

  it('a rule without a selector selects everything; fields that are not lists of strings are ignored', () => {
    assert.equal(selects(selectorOf({}), cm, components), true);
    assert.deepEqual(selectorOf({ selector: { resourceTypes: 'ConfigMap', resourceNames: ['a', 3] } }), {
      resourceNames: ['a'],
    });
  });
});
