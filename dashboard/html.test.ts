import assert from 'node:assert/strict';
import { age, markup } from './html.js';

describe('dashboard markup`...`', () => {
  it('escapes interpolated values (a name cannot inject markup) but not nested fragments', () => {
    const name = '<img src=x onerror="alert(1)">';
    assert.equal(markup`<td>${name}</td>`.text, '<td>&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</td>');
    assert.equal(
      markup`<ul>${['a&b', 'c'].map((i) => markup`<li>${i}</li>`)}</ul>`.text,
      '<ul><li>a&amp;b</li><li>c</li></ul>',
    );
  });

  it('age() says seconds, minutes, hours, days like kubectl, and "-" without a time', () => {
    const now = Date.parse('2026-01-02T00:00:00Z');
    assert.deepEqual(
      ['2026-01-01T23:59:30Z', '2026-01-01T23:30:00Z', '2026-01-01T20:00:00Z', '2025-12-20T00:00:00Z', undefined].map(
        (t) => age(t, now),
      ),
      ['30s', '30m', '4h', '13d', '-'],
    );
  });
});
