import assert from 'node:assert/strict';
import { groupOf } from './api-version.js';

describe('groupOf', () => {
  it('is the part before the slash', () => {
    assert.equal(groupOf('apps/v1'), 'apps');
    assert.equal(groupOf('networking.k8s.io/v1'), 'networking.k8s.io');
    assert.equal(groupOf('core.oam.dev/v1alpha2'), 'core.oam.dev');
  });

  it("is '' for the core group, whose apiVersion is the version alone", () => {
    assert.equal(groupOf('v1'), '');
  });
});
