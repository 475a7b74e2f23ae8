import assert from 'node:assert/strict';
import { expandQuery, measure, type MetricSource } from './analysis.js';
import type { RolloutSpec } from './types.js';

const vars = { revision: 'web-v2', stableRevision: 'web-v1', component: 'web', app: 'shop', namespace: 'prod' };
const spec = (metrics: NonNullable<RolloutSpec['analysis']>['metrics']): RolloutSpec => ({
  component: 'web',
  analysis: { metrics },
});
/** Answers from a table of query → value (a thrown error for `fail`). */
const source = (answers: Record<string, number | undefined | 'fail'>): MetricSource => ({
  async query(q) {
    const a = answers[q];
    if (a === 'fail') throw new Error('connection refused');
    return a;
  },
});

describe('rollout analysis: measure()', () => {
  it('fills in the placeholders, and leaves unknown ones', () => {
    assert.equal(
      expandQuery(
        'x{revision="{{revision}}",stable="{{ stableRevision }}",ns="{{namespace}}",a="{{app}}",c="{{component}}",o="{{other}}"}',
        vars,
      ),
      'x{revision="web-v2",stable="web-v1",ns="prod",a="shop",c="web",o="{{other}}"}',
    );
  });

  it('passes within min/max, fails outside with the value and bound, and is inconclusive without data or an answer', async () => {
    const results = await measure(
      spec([
        { name: 'ok', query: 'ok', min: 0.99 },
        { name: 'low', query: 'low', min: 0.99 },
        { name: 'slow', query: 'slow', max: 0.3 },
        { name: 'none', query: 'none', min: 1 },
        { name: 'nan', query: 'nan', min: 1 },
        { name: 'down', query: 'down', min: 1 },
      ]),
      { prometheus: source({ ok: 0.995, low: 0.5, slow: 0.75, none: undefined, nan: Number.NaN, down: 'fail' }) },
      vars,
      new Date('2026-11-23T10:00:00.500Z'),
    );
    assert.deepEqual(
      results.map((r) => [r.name, r.phase, r.value, r.message]),
      [
        ['ok', 'Successful', 0.995, '0.995 ≥ 0.99'],
        ['low', 'Failed', 0.5, '0.5 is below the minimum 0.99'],
        ['slow', 'Failed', 0.75, '0.75 is above the maximum 0.3'],
        ['none', 'Inconclusive', undefined, 'no data (no request in the interval?)'],
        ['nan', 'Inconclusive', undefined, 'not a number (no traffic?)'],
        ['down', 'Inconclusive', undefined, 'connection refused'],
      ],
    );
    assert.equal(results[0]!.measuredAt, '2026-11-23T10:00:00Z');
  });
});
