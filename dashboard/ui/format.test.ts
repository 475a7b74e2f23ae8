import assert from 'node:assert/strict';
import { age, showValue } from './format.js';
import { match, pathOf } from './paths.js';

describe('dashboard UI: formatting and paths', () => {
  it('age() says seconds, minutes, hours, days like kubectl, and "-" without a time', () => {
    const now = Date.parse('2026-01-02T00:00:00Z');
    assert.deepEqual(
      ['2026-01-01T23:59:30Z', '2026-01-01T23:30:00Z', '2026-01-01T20:00:00Z', '2025-12-20T00:00:00Z', undefined].map(
        (t) => age(t, now),
      ),
      ['30s', '30m', '4h', '13d', '-'],
    );
  });

  it('showValue() prints JSON on one line and "-" for an absent value', () => {
    assert.deepEqual(
      [showValue('nginx:1.27'), showValue(2), showValue({ a: [1] }), showValue(undefined), showValue(null)],
      ['"nginx:1.27"', '2', '{"a":[1]}', '-', 'null'],
    );
  });

  it('pathOf() escapes each segment and match() decodes them; a longer or shorter path does not match', () => {
    const path = `/apps${pathOf('team a', 'shop/v2')}`;
    assert.equal(path, '/apps/team%20a/shop%2Fv2');
    assert.deepEqual(match('/apps/:ns/:name', path), { ns: 'team a', name: 'shop/v2' });
    assert.deepEqual(match('/apps/:ns/:name', '/apps/default/shop/'), { ns: 'default', name: 'shop' });
    assert.equal(match('/apps/:ns/:name', '/apps/default/shop/components/web'), undefined);
    assert.equal(match('/apps/:ns/:name', '/apps/default'), undefined);
  });
});
