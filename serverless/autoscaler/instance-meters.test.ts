import assert from 'node:assert/strict';
import type { MeterStats } from '../activator/activator.js';
import { DirectArrivals } from './instance-meters.js';

const reading = (meter: string, key: string, arrivals: number): MeterStats => ({
  meter,
  revisions: { [key]: { at: 0, area: 0, arrivals, current: 0, peak: 0, queued: 0, ready: 0 } },
});

describe('serverless: DirectArrivals (requests instances took directly, for /metrics)', () => {
  it('counts what each meter added since its last reading, summed per revision', () => {
    const direct = new DirectArrivals();
    assert.deepEqual(
      direct.take([reading('a', 'shop/hello-00001', 5), reading('b', 'shop/hello-00001', 2)]),
      new Map([['shop/hello-00001', 7]]),
      'a meter read for the first time counts all it has',
    );
    assert.deepEqual(
      direct.take([reading('a', 'shop/hello-00001', 9), reading('b', 'shop/hello-00001', 2)]),
      new Map([['shop/hello-00001', 4]]),
    );
    assert.deepEqual(direct.take([reading('a', 'shop/hello-00001', 9)]), new Map(), 'nothing new: nothing counted');
  });

  it('takes a count that fell as a restarted meter, and keeps a meter that missed a reading', () => {
    const direct = new DirectArrivals();
    direct.take([reading('a', 'k', 10)]);
    assert.deepEqual(direct.take([reading('a', 'k', 3)]), new Map([['k', 3]]), 'restarted: counted from 0');
    assert.deepEqual(direct.take([]), new Map(), 'unread once');
    assert.deepEqual(direct.take([reading('a', 'k', 5)]), new Map([['k', 2]]), 'continues from its last count');
  });
});
