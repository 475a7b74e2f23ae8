import assert from 'node:assert/strict';
import { shardLeaseName, shardOf } from './shards.js';

describe('runtime: shardOf()', () => {
  it('puts a key in the same shard every time, in every process (FNV-1a of namespace/name)', () => {
    assert.equal(shardOf('shop/web', 12), shardOf('shop/web', 12));
    assert.equal(shardOf('a', 7), 0xe40c292c % 7);
    assert.equal(shardLeaseName('trellis-controller', 3), 'trellis-controller-shard-3');
  });

  it('spreads 1,000 application keys evenly over 12 shards (each within ±30 % of the mean)', () => {
    const counts = new Array<number>(12).fill(0);
    for (let i = 0; i < 1000; i++) counts[shardOf(`bench-reconcile/app-${String(i).padStart(4, '0')}`, 12)]!++;
    for (const c of counts) assert.ok(c > (1000 / 12) * 0.7 && c < (1000 / 12) * 1.3, `uneven: ${counts.join(',')}`);
  });
});
