import assert from 'node:assert/strict';
import { isRecord } from './is-record.js';

describe('isRecord', () => {
  it('is true for JSON objects, also empty ones and those without a prototype', () => {
    assert.equal(isRecord({ spec: { replicas: 1 } }), true);
    assert.equal(isRecord({}), true);
    assert.equal(isRecord(Object.create(null)), true);
  });

  it('is false for arrays, null and every scalar', () => {
    for (const v of [[], [{}], null, undefined, 0, 1, '', 'x', true, false]) {
      assert.equal(isRecord(v), false, JSON.stringify(v));
    }
  });
});
