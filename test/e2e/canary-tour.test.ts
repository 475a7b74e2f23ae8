import assert from 'node:assert/strict';
import { followTour } from '../support/tour.js';

/**
 * What a reader sees after each step of README's "Ship a change as a canary" (after step 1, which
 * the tour helper runs itself). One entry per README block.
 */
const EXPECT: ((out: string) => void)[] = [
  // 2. what serves
  (out) => {
    assert.match(
      out,
      /^NAME\s+STRATEGY\s+STABLE\s+CANARY\s+STEP\s+WEIGHT\s+PHASE\s+AGE$/m,
      'kubectl get rollout: the columns',
    );
    assert.match(
      out,
      /^storefront-rollout\s+canary\s+storefront-v1\s+.*\s0\s+Healthy\s/m,
      'storefront-v1 is stable, nothing rolls out',
    );
    assert.match(out, /^storefront-v1=100$/m, 'the HTTPRoute sends storefront-v1 all traffic');
  },
  // 3. change the image
  (out) => {
    assert.match(out, /component\.core\.oam\.dev\/storefront patched/);
    assert.match(out, /rollout\.delivery\.trellis\.dev\/storefront-rollout condition met/);
    assert.match(out, /^storefront-v1\s+1\/1/m, 'kubectl get deployments: the stable revision runs');
    assert.match(out, /^storefront-v2\s+1\/1/m, 'kubectl get deployments: the new revision runs beside it');
    assert.match(out, /Phase:\s+Paused/);
    assert.match(out, /Step:\s+1\/2/);
    assert.match(out, /Weights:\s+storefront-v1 80%, storefront-v2 20%/);
    assert.match(out, /Route:\s+HTTPRoute storefront: storefront-v1 80, storefront-v2 20/);
    assert.match(out, /Next:\s+promote with `trellis rollout promote store --component storefront`/);
  },
  // 4. promote
  (out) => {
    assert.match(out, /step 1\/2 \(20% to storefront-v2\) promoted; next: 50% to storefront-v2/);
    assert.match(out, /rollout\.delivery\.trellis\.dev\/storefront-rollout condition met/);
    assert.match(
      out,
      /^2\s+storefront-v2\s+\S+\s+100% \(store\)\s+current$/m,
      'trellis revisions: storefront-v2 serves all traffic',
    );
  },
  // 5. abort
  (out) => {
    assert.match(out, /component\.core\.oam\.dev\/storefront patched/);
    assert.match(out, /abort of storefront-v3 requested; storefront-v2 takes all traffic back/);
    assert.equal(out.match(/rollout\.delivery\.trellis\.dev\/storefront-rollout condition met/g)?.length, 2);
    assert.match(
      out,
      /^storefront-rollout\s+canary\s+storefront-v2\s+storefront-v3\s+.*\s0\s+Aborted\s/m,
      'kubectl get rollout: aborted, storefront-v2 takes all traffic',
    );
  },
];

describe('README: ship a change as a canary, verbatim, against `trellis up`', function () {
  this.timeout(900_000);
  followTour('canary-tour', EXPECT);
});
