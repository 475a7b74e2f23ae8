import assert from 'node:assert/strict';
import { Route } from './route.js';

const settings = { queueSize: 10, queueTimeoutMs: 60_000 };

describe('serverless: Route (weighted split between revisions)', () => {
  it('gives each revision exactly its share, spread out rather than bunched', () => {
    const route = new Route('ns/fn', settings, () => true);
    route.setTargets([
      { revision: 'a', percent: 90 },
      { revision: 'b', percent: 10 },
    ]);
    const picks = Array.from({ length: 1000 }, () => route.pick());
    assert.equal(picks.filter((p) => p === 'b').length, 100);
    for (let i = 0; i < 1000; i += 10)
      assert.equal(picks.slice(i, i + 10).filter((p) => p === 'b').length, 1, `one in every ten (at ${i})`);
  });

  it('sends nothing to a 0 % target, and follows a new split from the next request on', () => {
    const route = new Route('ns/fn', settings, () => true);
    route.setTargets([
      { revision: 'a', percent: 100 },
      { revision: 'b', percent: 0 },
    ]);
    assert.deepEqual(new Set(Array.from({ length: 50 }, () => route.pick())), new Set(['a']));
    route.setTargets([
      { revision: 'a', percent: 0 },
      { revision: 'b', percent: 100 },
    ]);
    assert.deepEqual(new Set(Array.from({ length: 50 }, () => route.pick())), new Set(['b']));
    assert.deepEqual(route.targets, [{ revision: 'b', percent: 100 }]);
  });

  it('holds requests while it has no target, or names a revision not served yet, and releases them once it can', async () => {
    const known = new Set<string>();
    const route = new Route('ns/fn', settings, (r) => known.has(r));
    const held = [route.pending.hold(60_000), route.pending.hold(60_000)];
    assert.equal(route.servable, false);
    route.setTargets([{ revision: 'a', percent: 100 }]);
    assert.equal(route.pending.length, 2, 'revision a is not served yet');
    known.add('a');
    route.release();
    assert.deepEqual(await Promise.all(held), ['a', 'a']);
  });

  it('answers what it holds when closed', async () => {
    const route = new Route('ns/fn', settings, () => true);
    const held = route.pending.hold(60_000);
    route.close();
    await assert.rejects(held, /cancelled/);
  });
});
