import assert from 'node:assert/strict';
import { settlesWithin } from './settles-within.js';

describe('lib: settlesWithin', () => {
  it('is true for a promise that resolves or rejects in time, false for one that never settles', async () => {
    assert.equal(await settlesWithin(Promise.resolve(1), 1_000), true);
    assert.equal(await settlesWithin(Promise.reject(new Error('no')), 1_000), true);
    assert.equal(await settlesWithin(new Promise(() => {}), 10), false);
  });
});
