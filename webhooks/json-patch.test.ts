import assert from 'node:assert/strict';
import { applyPatch, diffPatch, pointer } from './json-patch.js';

describe('webhooks: diffPatch()', () => {
  it('escapes "/" and "~" in keys (label keys carry slashes)', () => {
    assert.equal(pointer(['metadata', 'labels', 'workload.oam.dev/type']), '/metadata/labels/workload.oam.dev~1type');
    assert.equal(pointer(['a~b']), '/a~0b');
  });

  it('adds, replaces and removes keys, and the patch turns before into after', () => {
    const before = {
      spec: { workload: { type: 'web', spec: { x: 1 } }, parameters: [{ name: 'a' }] },
      metadata: { name: 'c' },
    };
    const after = {
      spec: { workload: { apiVersion: 'v1', kind: 'K', spec: { x: 1 } }, parameters: [{ name: 'b' }] },
      metadata: { name: 'c', labels: { 'a/b': 'web' } },
    };
    const ops = diffPatch(before, after);
    assert.deepEqual(ops, [
      { op: 'remove', path: '/spec/workload/type' },
      { op: 'add', path: '/spec/workload/apiVersion', value: 'v1' },
      { op: 'add', path: '/spec/workload/kind', value: 'K' },
      { op: 'replace', path: '/spec/parameters/0/name', value: 'b' },
      { op: 'add', path: '/metadata/labels', value: { 'a/b': 'web' } },
    ]);
    assert.deepEqual(applyPatch(before, ops), after);
  });

  it('replaces an array whose length changed, and is empty for equal documents', () => {
    assert.deepEqual(diffPatch({ a: [1, 2] }, { a: [1] }), [{ op: 'replace', path: '/a', value: [1] }]);
    assert.deepEqual(diffPatch({ a: { b: [1, { c: 2 }] } }, { a: { b: [1, { c: 2 }] } }), []);
  });
});
