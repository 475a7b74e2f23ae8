import assert from 'node:assert/strict';
import { jsonEqual } from './equal.js';

describe('lib: jsonEqual', () => {
  it('ignores the order of keys, at every depth', () => {
    assert.equal(jsonEqual({ a: 1, b: { c: [1, { d: 2, e: 3 }] } }, { b: { c: [1, { e: 3, d: 2 }] }, a: 1 }), true);
  });

  it('compares arrays in order, and values by type', () => {
    assert.equal(jsonEqual([1, 2], [2, 1]), false);
    assert.equal(jsonEqual({ a: 1 }, { a: '1' }), false);
    assert.equal(jsonEqual(null, {}), false);
    assert.equal(jsonEqual([], {}), false);
    assert.equal(jsonEqual({ a: 1 }, { a: 1, b: 2 }), false);
    assert.equal(jsonEqual({ a: 1, b: 2 }, { a: 1, c: 2 }), false);
  });

  it('treats a key set to undefined as absent, as JSON does', () => {
    assert.equal(jsonEqual({ a: 1, b: undefined }, { a: 1 }), true);
  });
});
