import assert from 'node:assert/strict';
import type { Request } from '../../runtime/index.js';
import { Coalescer, type CoalesceTimers } from './coalesce.js';

/** Timers driven by the test: `advance(ms)` runs what falls due. */
function fakeTimers(): CoalesceTimers & { advance(ms: number): void } {
  let now = 0;
  let next = 0;
  const due = new Map<number, { at: number; fn: () => void }>();
  return {
    set(fn, ms) {
      due.set(++next, { at: now + ms, fn });
      return next;
    },
    clear: (handle) => void due.delete(handle as number),
    now: () => now,
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const [id, t] = [...due].sort((a, b) => a[1].at - b[1].at)[0] ?? [];
        if (id === undefined || !t || t.at > end) break;
        due.delete(id);
        now = t.at;
        t.fn();
      }
      now = end;
    },
  };
}

describe('controllers/appconfig: Coalescer (one reconcile for a burst of status events)', () => {
  const web: Request = { namespace: 'shop', name: 'web' };

  it('hands a key on once its events were quiet for quietMs, once for the whole burst', () => {
    const timers = fakeTimers();
    const out: Request[] = [];
    const c = new Coalescer({ quietMs: 1000, enqueue: (r) => out.push(r), timers });
    c.add(web);
    timers.advance(700);
    c.add(web); // a second status write, 0.7 s later: the burst goes on
    timers.advance(700);
    assert.equal(out.length, 0, 'not while events keep coming');
    timers.advance(300);
    assert.deepEqual(out, [web]);
    c.add({ namespace: 'shop', name: 'api' });
    c.add(web);
    timers.advance(1000);
    assert.deepEqual(
      out
        .slice(1)
        .map((r) => r.name)
        .sort(),
      ['api', 'web'],
      'each key on its own',
    );
  });

  it('waits at most maxMs after the first event, however many follow', () => {
    const timers = fakeTimers();
    const out: Request[] = [];
    const c = new Coalescer({ quietMs: 1000, maxMs: 3000, enqueue: (r) => out.push(r), timers });
    for (let t = 0; t < 2900; t += 500) {
      c.add(web);
      timers.advance(500);
    }
    assert.equal(out.length, 1, 'handed on at 3 s although events kept coming');
  });

  it('stop() drops what is pending', () => {
    const timers = fakeTimers();
    const out: Request[] = [];
    const c = new Coalescer({ quietMs: 1000, enqueue: (r) => out.push(r), timers });
    c.add(web);
    c.stop();
    timers.advance(5000);
    assert.deepEqual(out, []);
  });
});
