import assert from 'node:assert/strict';
import { didYouMean, editDistance, suggest } from './suggest.js';

describe('lib: suggest', () => {
  it('counts a swap of neighbours as one edit', () => {
    assert.equal(editDistance('scaler', 'sclaer'), 1);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('kitten', 'sitting'), 3);
  });

  it('suggests the closest names first, and prefixes', () => {
    assert.deepEqual(suggest('scalr', ['ingress', 'scaler', 'autoscaler']), ['scaler']);
    assert.deepEqual(suggest('ser', ['serverless', 'status']), ['serverless']);
    assert.deepEqual(suggest('Webservise', ['webservice', 'worker']), ['webservice']);
  });

  it('suggests nothing for a word far from every name', () => {
    assert.deepEqual(suggest('frobnicate', ['render', 'status', 'apply']), []);
    assert.equal(didYouMean('frobnicate', ['render']), '');
  });

  it('phrases one or two suggestions', () => {
    assert.equal(didYouMean('rendr', ['render']), ' (did you mean "render"?)');
    assert.equal(didYouMean('envv', ['envs', 'env']), ' (did you mean "env" or "envs"?)');
  });
});
