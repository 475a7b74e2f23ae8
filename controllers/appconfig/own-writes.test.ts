import assert from 'node:assert/strict';
import { entryKey, entryOf } from '../../apply/index.js';
import type { KubeObject } from '../../kube/index.js';
import { OwnWrites } from './own-writes.js';

const deployment = (resourceVersion: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', resourceVersion },
});
const key = entryKey(entryOf(deployment('1')));

describe("controllers/appconfig: OwnWrites (a child's event that is the controller's own write)", () => {
  it('drops the event of a vouched write answered before the event arrives, once', () => {
    let own = 0;
    const writes = new OwnWrites(undefined, () => own++);
    const done = writes.writing([key]);
    writes.add(deployment('7'));
    done();
    assert.equal(writes.take(deployment('7')), true);
    assert.equal(writes.take(deployment('7')), false, 'once');
    assert.equal(writes.take(deployment('8')), false, "another version is someone else's");
    assert.equal(own, 1);
  });

  it('holds an event that comes before its write is answered, and drops it when the answer carries its version', () => {
    let own = 0;
    const released: string[] = [];
    const writes = new OwnWrites(undefined, () => own++);
    const done = writes.writing([key]);
    assert.equal(writes.take(deployment('7')), false, 'not answered yet');
    assert.equal(
      writes.hold(deployment('7'), () => released.push('7')),
      true,
    );
    writes.add(deployment('7'));
    done();
    assert.deepEqual(released, [], 'the write came back: nothing to reconcile');
    assert.equal(own, 1);
    assert.equal(writes.take(deployment('7')), false, 'nothing left to match a later event');
  });

  it("releases, in order, what was held and is not the write's own — when the writes end", () => {
    const released: string[] = [];
    const writes = new OwnWrites();
    const done = writes.writing([key]);
    writes.hold(deployment('6'), () => released.push('6')); // someone else's write, before ours
    writes.hold(deployment('7'), () => released.push('7')); // ours
    writes.hold(deployment('8'), () => released.push('8')); // kube-controller-manager's, right after
    writes.add(deployment('7'));
    assert.deepEqual(released, [], 'held until every write is answered');
    done();
    done(); // ending twice changes nothing
    assert.deepEqual(released, ['6', '8']);
  });

  it('releases everything held when the write is not vouched for (or failed): no answer to match', () => {
    const released: string[] = [];
    const writes = new OwnWrites();
    const done = writes.writing([key]);
    writes.hold(deployment('7'), () => released.push('7'));
    done();
    assert.deepEqual(released, ['7']);
  });

  it('holds nothing for an object with no write in flight, and stops holding once the writes end', () => {
    const writes = new OwnWrites();
    assert.equal(
      writes.hold(deployment('7'), () => {}),
      false,
    );
    const other = entryKey(entryOf({ ...deployment('1'), metadata: { name: 'api', namespace: 'shop' } }));
    const done = writes.writing([other]);
    assert.equal(
      writes.hold(deployment('7'), () => {}),
      false,
      'a write to another object',
    );
    done();
    const first = writes.writing([key]);
    const second = writes.writing([key]);
    first();
    assert.equal(
      writes.hold(deployment('7'), () => {}),
      true,
      'still one unanswered write',
    );
    second();
    assert.equal(
      writes.hold(deployment('8'), () => {}),
      false,
    );
  });
});
