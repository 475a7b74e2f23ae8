import assert from 'node:assert/strict';
import { measureWindow, snapshotOf } from './activator-metrics.js';

const series = { namespace: 'shop', function: 'hello', revision: 'hello-00002' };
/** The activator's exposition text for hello-00002 (and a neighbour that must not count). */
const text = (ok: number, failed: number, buckets: [string, number][]) =>
  [
    '# HELP trellis_activator_requests_total Requests the activator answered.',
    '# TYPE trellis_activator_requests_total counter',
    `trellis_activator_requests_total{namespace="shop",function="hello",revision="hello-00002",code="200"} ${ok}`,
    `trellis_activator_requests_total{namespace="shop",function="hello",revision="hello-00002",code="503"} ${failed}`,
    'trellis_activator_requests_total{namespace="shop",function="hello",revision="hello-00001",code="500"} 99',
    '# TYPE trellis_activator_request_duration_seconds histogram',
    ...buckets.map(
      ([le, n]) =>
        `trellis_activator_request_duration_seconds_bucket{namespace="shop",function="hello",revision="hello-00002",le="${le}"} ${n}`,
    ),
    `trellis_activator_request_duration_seconds_count{namespace="shop",function="hello",revision="hello-00002"} ${ok + failed}`,
  ].join('\n');

describe("rollout analysis: the activator's per-revision counters", () => {
  it('counts one revision, summed over activators; 5xx answers are failures', () => {
    const s = snapshotOf(
      [
        text(8, 2, [
          ['0.1', 6],
          ['+Inf', 10],
        ]),
        text(1, 1, [
          ['0.1', 2],
          ['+Inf', 2],
        ]),
      ],
      series,
    );
    assert.deepEqual(
      [s.total, s.failed, [...s.buckets]],
      [
        12,
        3,
        [
          [0.1, 8],
          [Infinity, 12],
        ],
      ],
    );
  });

  it('measures the window between two samples: success rate, and a latency percentile interpolated in its bucket', () => {
    const before = snapshotOf(
      [
        text(10, 0, [
          ['0.01', 10],
          ['0.1', 10],
          ['1', 10],
          ['+Inf', 10],
        ]),
      ],
      series,
    );
    const after = snapshotOf(
      [
        text(100, 10, [
          ['0.01', 60],
          ['0.1', 100],
          ['1', 110],
          ['+Inf', 110],
        ]),
      ],
      series,
    );
    assert.equal(measureWindow('successRate', before, after), 0.9);
    // 100 new requests: 50 under 10 ms, 40 more under 100 ms, 10 under 1 s. p50 = 10 ms, p90 = 100 ms, p95 in (0.1, 1].
    assert.equal(measureWindow('latencyP50', before, after), 0.01);
    assert.equal(measureWindow('latencyP90', before, after), 0.1);
    assert.ok(Math.abs(measureWindow('latencyP95', before, after)! - 0.55) < 1e-9);
    assert.equal(measureWindow('successRate', after, after), undefined, 'no request in the window: no data');
  });
});
