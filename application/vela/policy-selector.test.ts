import assert from 'node:assert/strict';
import type { KubeObject } from '../../kube/types.js';
import { firstRule, selectorOf, selects } from './policy-selector.js';

/** Labelled as render/ labels what a KubeVela Application renders. */
const cm: KubeObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: {
    name: 'settings',
    labels: {
      'app.oam.dev/component': 'config',
      'app.oam.dev/resourceType': 'WORKLOAD',
      'workload.oam.dev/type': 'k8s-objects',
    },
  },
};
const svc: KubeObject = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: {
    name: 'web',
    labels: { 'app.oam.dev/component': 'web', 'app.oam.dev/resourceType': 'TRAIT', 'trait.oam.dev/type': 'expose' },
  },
};
const pick = (selector: Record<string, unknown>, obj: KubeObject) => selects(selectorOf({ selector }), obj);

describe('application/vela/policy-selector: KubeVela rule selectors', () => {
  it('every field given must match; each lists alternatives', () => {
    assert.equal(pick({ resourceTypes: ['ConfigMap', 'Secret'] }, cm), true);
    assert.equal(pick({ resourceTypes: ['Secret'] }, cm), false);
    assert.equal(pick({ resourceTypes: ['ConfigMap'], componentNames: ['web'] }, cm), false);
    assert.equal(pick({ componentTypes: ['k8s-objects'] }, cm), true);
    assert.equal(pick({ resourceNames: ['settings'] }, cm), true);
  });

  it('traitTypes and oamTypes tell trait objects from component objects (COMPONENT is WORKLOAD)', () => {
    assert.equal(pick({ traitTypes: ['expose'] }, svc), true);
    assert.equal(pick({ traitTypes: ['expose'] }, cm), false);
    assert.equal(pick({ oamTypes: ['TRAIT'] }, svc), true);
    assert.equal(pick({ oamTypes: ['COMPONENT'] }, svc), false);
    assert.equal(pick({ oamTypes: ['COMPONENT'] }, cm), true);
    assert.equal(pick({ oamTypes: ['WORKLOAD'] }, cm), true);
    // KubeVela reads the component type from workload.oam.dev/type, which only the workload carries.
    assert.equal(pick({ componentTypes: ['webservice'] }, svc), false);
  });

  it('a rule without a selector (or with empty lists) selects nothing, as KubeVela; non-string entries are ignored', () => {
    assert.equal(selects(selectorOf({}), cm), false);
    assert.equal(pick({ resourceTypes: [] }, cm), false);
    assert.deepEqual(selectorOf({ selector: { resourceTypes: 'ConfigMap', resourceNames: ['a', 3] } }), {
      resourceNames: ['a'],
    });
  });

  it('the first rule that picks an object decides', () => {
    const rules = [
      { selector: { resourceNames: ['web'] }, strategy: 'never' },
      { selector: { oamTypes: ['TRAIT'] }, strategy: 'onAppDelete' },
    ];
    assert.equal(firstRule(rules, svc)?.strategy, 'never');
    assert.equal(firstRule(rules, cm), undefined);
  });
});
