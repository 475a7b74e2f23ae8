import assert from 'node:assert/strict';
import { getCondition, isTrue, setCondition } from './conditions.js';

describe('status: conditions', () => {
  const t0 = new Date('2026-01-01T00:00:00.000Z');
  const t1 = new Date('2026-01-01T00:05:00.000Z');

  it('adds a condition with its transition time', () => {
    const list = setCondition(undefined, { type: 'Synced', status: 'True', reason: 'Applied' }, t0);
    assert.deepEqual(list, [
      { type: 'Synced', status: 'True', reason: 'Applied', lastTransitionTime: '2026-01-01T00:00:00Z' },
    ]);
  });

  it('keeps lastTransitionTime while the status stays, and moves it when the status changes', () => {
    let list = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'Progressing' }, t0);
    list = setCondition(list, { type: 'Ready', status: 'False', reason: 'Unhealthy', message: '1/3 ready' }, t1);
    assert.equal(getCondition(list, 'Ready')?.lastTransitionTime, '2026-01-01T00:00:00Z');
    assert.equal(getCondition(list, 'Ready')?.reason, 'Unhealthy');
    list = setCondition(list, { type: 'Ready', status: 'True', reason: 'Healthy' }, t1);
    assert.equal(getCondition(list, 'Ready')?.lastTransitionTime, '2026-01-01T00:05:00Z');
    assert.equal(isTrue(list, 'Ready'), true);
    assert.equal(isTrue(list, 'Synced'), false);
  });

  it('replaces by type and leaves other types alone', () => {
    let list = setCondition(undefined, { type: 'Synced', status: 'True' }, t0);
    list = setCondition(list, { type: 'Ready', status: 'Unknown' }, t0);
    list = setCondition(list, { type: 'Synced', status: 'False', reason: 'RenderFailed' }, t1);
    assert.deepEqual(
      list.map((c) => `${c.type}=${c.status}`),
      ['Synced=False', 'Ready=Unknown'],
    );
  });
});
