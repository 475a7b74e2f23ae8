import assert from 'node:assert/strict';
import { followTour } from '../support/tour.js';

/** `uniq -c` lines as { value: count }. */
const counts = (out: string): Record<string, number> =>
  Object.fromEntries([...out.matchAll(/^\s*(\d+) (\S+)$/gm)].map((m) => [m[2]!, Number(m[1])]));

/**
 * What a reader sees after each step of README's "A function, rolled back by itself (and blue-green)" (after step 1,
 * which the tour helper runs itself): real requests through the activator under `trellis up`.
 */
const EXPECT: ((out: string) => void)[] = [
  // 2. call it
  (out) => {
    assert.match(out, /rollout\.delivery\.trellis\.dev\/hello-rollout condition met/);
    assert.deepEqual(counts(out), { v1: 10 }, 'hello-00001 answers every request');
  },
  // 3. change the greeting: one request in five to hello-00002, its tag reaches it alone
  (out) => {
    assert.match(out, /component\.core\.oam\.dev\/hello patched/);
    assert.match(out, /function\.serverless\.trellis\.dev\/hello condition met/);
    const c = counts(out);
    assert.equal((c.v1 ?? 0) + (c.v2 ?? 0), 20, 'every request answered by one of the two revisions');
    assert.ok((c.v2 ?? 0) >= 1 && (c.v2 ?? 0) <= 6, `hello-00002 answers about one in five (${JSON.stringify(c)})`);
    assert.match(out, /^v2$/m, 'the canary address reaches hello-00002');
  },
  // 4. promote
  (out) => {
    assert.match(out, /step 1\/1 \(20% to hello-00002\) promoted; next: hello-00002 takes all traffic/);
    assert.deepEqual(counts(out), { v2: 10 }, 'hello-00002 answers everything');
  },
  // 5. a broken change goes back by itself
  (out) => {
    const c = counts(out);
    assert.equal((c['200'] ?? 0) + (c['500'] ?? 0), 20, `only 200 and 500 (${JSON.stringify(c)})`);
    assert.ok((c['500'] ?? 0) >= 1, 'hello-00003 got requests and failed them');
    assert.match(out, /Phase:\s+RolledBack/);
    assert.match(out, /Stable:\s+hello-00002/);
    assert.match(out, /New:\s+hello-00003 \(rolled back\)/);
    assert.match(
      out,
      /hello-00003 rolled back: analysis failed at step 1\/1: success-rate: \S+ is below the minimum 0\.95; hello-00002 takes all traffic/,
    );
    assert.match(out, /^success-rate\s+Failed\s/m);
    assert.match(out, /Warning\s+RolledBack\s+analysis failed at step 1\/1/);
  },
  // 6. only the stable revision answers
  (out) => {
    assert.deepEqual(counts(out), { 200: 10 });
    assert.match(out, /^hello-rollout\s+canary\s+hello-00002\s+hello-00003\s+.*\s0\s+RolledBack\s/m);
  },
  // 7. blue-green: the preview address alone reaches the new revision until promoted, then it takes everything
  (out) => {
    assert.match(out, /applicationconfiguration\.core\.oam\.dev\/greeter patched/);
    const [before, after] = out.split(/promoted in full|promoted; next/);
    assert.ok(after !== undefined, 'the promote said so');
    assert.deepEqual(counts(before!), { v2: 10 }, 'while previewed, hello-00004 gets no share of the requests');
    assert.match(before!, /^v4$/m, 'the preview address reaches hello-00004');
    assert.deepEqual(counts(after), { v4: 10 }, 'after the promote hello-00004 answers everything');
  },
];

describe('README: a function, rolled back by itself, verbatim, against `trellis up`', function () {
  this.timeout(900_000);
  followTour('function-canary-tour', EXPECT);
});
