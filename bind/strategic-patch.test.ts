import assert from 'node:assert/strict';
import { isTrellisError } from '../lib/errors.js';
import type { PatchTags } from '../render/types.js';
import { patchScope, strategicMerge } from './strategic-patch.js';

const ctx = () => ({
  trait: 't',
  owners: new Map<string, string>(),
  object: 'Application/default/a',
  field: 'spec.components',
});
function merge(target: Record<string, unknown>, patch: Record<string, unknown>, tags: PatchTags | null) {
  const c = ctx();
  strategicMerge(target, patch, patchScope(tags, c), c);
  return target;
}
const list = (tags: Record<string, string>): PatchTags => ({ fields: { items: { tags } } });

/** KubeVela's sets.StrategyUnify, case by case (its tests' shapes, on JSON). */
describe('bind: KubeVela patch strategies', () => {
  it('without tags, lists unify by index: the first item merges, extra items append, the rest stay', () => {
    const out = merge({ items: [{ a: 1 }, { a: 2 }] }, { items: [{ b: 1 }] }, null);
    assert.deepEqual(out, { items: [{ a: 1, b: 1 }, { a: 2 }] });
    assert.deepEqual(merge({ items: [{ a: 1 }] }, { items: [{ a: 1 }, { a: 3 }] }, null), {
      items: [{ a: 1 }, { a: 3 }],
    });
  });

  it('patchKey: items merge by key in place, new ones append in patch order, keyless patch items are dropped', () => {
    const out = merge(
      {
        items: [
          { name: 'x', v: 1 },
          { name: 'y', v: 2 },
        ],
      },
      { items: [{ name: 'z', v: 9 }, { name: 'y', w: 3 }, { v: 0 }] },
      list({ patchKey: 'name' }),
    );
    assert.deepEqual(out, {
      items: [
        { name: 'x', v: 1 },
        { name: 'y', v: 2, w: 3 },
        { name: 'z', v: 9 },
      ],
    });
  });

  it('patchKey is inherited from a field above; a dotted key reaches inside items', () => {
    const tags: PatchTags = { fields: { spec: { tags: { patchKey: 'meta.id' } } } };
    const out = merge(
      { spec: { items: [{ meta: { id: 1 }, v: 1 }] } },
      { spec: { items: [{ meta: { id: 2 } }, { meta: { id: 1 }, w: 2 }] } },
      tags,
    );
    assert.deepEqual(out, { spec: { items: [{ meta: { id: 1 }, v: 1, w: 2 }, { meta: { id: 2 } }] } });
  });

  it('patchKey with an empty patch list keeps the list; with no item carrying the key, items unify by index', () => {
    assert.deepEqual(merge({ items: [{ name: 'x' }] }, { items: [] }, list({ patchKey: 'name' })), {
      items: [{ name: 'x' }],
    });
    assert.deepEqual(merge({ items: ['a', 'b'] }, { items: ['a'] }, list({ patchKey: 'name' })), { items: ['a', 'b'] });
  });

  it('retainKeys: a field is replaced; on a keyed list the matching item is replaced, not merged', () => {
    const tags: PatchTags = { fields: { r: { tags: { patchStrategy: 'retainKeys' } } } };
    assert.deepEqual(merge({ r: { a: 1, b: 2 } }, { r: { c: 3 } }, tags), { r: { c: 3 } });
    const out = merge(
      { items: [{ name: 'x', v: 1, old: true }] },
      { items: [{ name: 'x', v: 2 }] },
      list({ patchKey: 'name', patchStrategy: 'retainKeys' }),
    );
    assert.deepEqual(out, { items: [{ name: 'x', v: 2 }] });
  });

  it('replace: the patch list replaces the list', () => {
    assert.deepEqual(merge({ items: [1, 2, 3] }, { items: [4] }, list({ patchStrategy: 'replace' })), { items: [4] });
  });

  it('two different scalars conflict, naming the field; equal ones are fine', () => {
    assert.deepEqual(merge({ a: { b: 1 } }, { a: { b: 1 } }, null), { a: { b: 1 } });
    assert.throws(
      () => merge({ a: { b: 1 } }, { a: { b: 2 } }, null),
      (err: unknown) =>
        isTrellisError(err, 'TRL_BIND_PATCH_CONFLICT') && /sets a\.b to 2 and the workload has 1/.test(err.message),
    );
  });

  it('jsonMergePatch on the patch: RFC 7396 — null deletes, lists replace, scalars override', () => {
    const out = merge(
      { m: { keep: 1, drop: 2, v: 'old' }, l: [1, 2] },
      { m: { drop: null, v: 'new' }, l: [3] },
      { tags: { patchStrategy: 'jsonMergePatch' } },
    );
    assert.deepEqual(out, { m: { keep: 1, v: 'new' }, l: [3] });
  });

  it('jsonPatch is refused, naming the strategy and the trait', () => {
    assert.throws(
      () => merge({}, { operations: [] }, { tags: { patchStrategy: 'jsonPatch' } }),
      (err: unknown) => isTrellisError(err, 'TRL_RENDER_TEMPLATE') && /trait "t".*jsonPatch/.test(err.message),
    );
  });
});
