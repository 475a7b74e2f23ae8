import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from './duration.js';

describe('lib/duration', () => {
  it('parseDuration reads Go-style durations and falls back on nonsense', () => {
    assert.equal(parseDuration('1h30m', 0), 5_400_000);
    assert.equal(parseDuration('250ms', 0), 250);
    assert.equal(parseDuration('1m30s', 0), 90_000);
    assert.equal(parseDuration('5 minutes', 42), 42);
    assert.equal(parseDuration('30', 42), 42);
    assert.equal(parseDuration(undefined, 7), 7);
  });

  it('formatDuration rounds for people', () => {
    assert.equal(formatDuration(250), '250ms');
    assert.equal(formatDuration(45_400), '45s');
    assert.equal(formatDuration(125_000), '2m05s');
    assert.equal(formatDuration(4_200_000), '1h10m');
  });
});
