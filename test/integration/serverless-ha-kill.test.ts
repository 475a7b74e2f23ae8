import assert from 'node:assert/strict';
import { useNamespace } from '../support/namespace.js';
import { killDuringLoad } from '../support/serverless-ha.js';

describe('serverless: an activator replica killed under load (two `trellis serverless` processes)', function () {
  const ns = useNamespace('hakill');

  it('answers every request through the other replica; only those inside the killed one were cut, and GETs among them are sent again', async () => {
    // Bounded here (a few hundred requests); bench/serverless runs it at 1,000 rps (BENCHMARKS.md).
    const r = await killDuringLoad(ns.name, { rate: 150, seconds: 4, killAt: 1.5 });
    assert.deepEqual(r.lost, [], 'no request lost');
    assert.equal(r.ok, r.sent);
    assert.ok(
      r.refused > 0,
      `the killed replica refused connections after it died, and those went to the other one (${JSON.stringify(r)})`,
    );
    assert.equal(r.cutBySurvivor, 0, 'the replica that lived cut nothing');
    assert.ok(
      r.cut > 0 || r.inFlightAtKill === 0,
      `what the killed replica held (${r.inFlightAtKill} in flight at the kill; ${r.cut} cut, with those sent on its connections before they closed) was sent again`,
    );
  });
});
