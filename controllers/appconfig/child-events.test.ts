import assert from 'node:assert/strict';
import { entryKey, entryOf } from '../../apply/index.js';
import type { KubeObject } from '../../kube/index.js';
import type { ObjectEvent, Request } from '../../runtime/index.js';
import { childEvents } from './child-events.js';
import { OwnWrites } from './own-writes.js';

const deployment = (resourceVersion: string, replicas = 1, ready = 0): KubeObject & Record<string, unknown> => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', resourceVersion, labels: { 'app.oam.dev/name': 'shop' } },
  spec: { replicas },
  status: { readyReplicas: ready },
});
const shop: Request = { namespace: 'shop', name: 'shop' };

/** A router with its coalescer and queue recorded. */
function router() {
  const own = new OwnWrites();
  const coalesced: Request[] = [];
  const enqueued: Request[] = [];
  const map = childEvents({
    owners: (o) => [{ namespace: o.metadata.namespace!, name: o.metadata.labels!['app.oam.dev/name']! }],
    own,
    coalesce: (r) => coalesced.push(r),
    enqueue: (r) => enqueued.push(r),
  });
  const send = (event: ObjectEvent) => map(event.object, event);
  return { own, coalesced, enqueued, send };
}

describe("controllers/appconfig: childEvents (what a child's watch event wakes)", () => {
  it('a resync replay wakes its AppConfig directly (queued low by the controller), never through the coalescer', () => {
    const r = router();
    const d = deployment('5');
    assert.deepEqual(r.send({ type: 'update', object: d, old: d }), [shop]);
    assert.deepEqual(r.coalesced, [], 'a coalesced pass would queue at normal priority');
  });

  it('a status-only change waits in the coalescer; drift, a create and a delete wake at once', () => {
    const r = router();
    assert.deepEqual(r.send({ type: 'update', object: deployment('6', 1, 1), old: deployment('5', 1, 0) }), []);
    assert.deepEqual(r.coalesced, [shop]);
    assert.deepEqual(r.send({ type: 'update', object: deployment('7', 3, 1), old: deployment('6', 1, 1) }), [shop]);
    assert.deepEqual(r.send({ type: 'add', object: deployment('1') }), [shop]);
    assert.deepEqual(r.send({ type: 'delete', object: deployment('7') }), [shop]);
    assert.equal(r.coalesced.length, 1);
  });

  it("drops the controller's own vouched write, also when its event comes before the write's answer", () => {
    const r = router();
    r.own.add(deployment('8', 3));
    assert.deepEqual(r.send({ type: 'update', object: deployment('8', 3), old: deployment('7', 1) }), []);
    const done = r.own.writing([entryKey(entryOf(deployment('8')))]);
    assert.deepEqual(r.send({ type: 'update', object: deployment('9', 4), old: deployment('8', 3) }), [], 'held');
    r.own.add(deployment('9', 4));
    done();
    assert.deepEqual([r.enqueued, r.coalesced], [[], []], 'its own: nothing to reconcile');
  });

  it("releases a held event that was not the write's own the way it would have gone: drift at once", () => {
    const r = router();
    const done = r.own.writing([entryKey(entryOf(deployment('8')))]);
    assert.deepEqual(r.send({ type: 'update', object: deployment('9', 5), old: deployment('8', 3) }), []);
    done();
    assert.deepEqual(r.enqueued, [shop]);
  });
});
