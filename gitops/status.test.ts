import assert from 'node:assert/strict';
import type { GitSync } from '../apis/generated/gitops.trellis.dev-v1alpha1.js';
import { nextStatus, parseDuration } from './status.js';

const gs = (status?: GitSync['status']): GitSync => ({
  apiVersion: 'gitops.trellis.dev/v1alpha1',
  kind: 'GitSync',
  metadata: { name: 'apps', namespace: 'ns', generation: 3 },
  spec: { url: 'file:///r' },
  ...(status ? { status } : {}),
});
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe('gitops: status', () => {
  it('parseDuration reads Go-style durations and falls back on nonsense', () => {
    assert.equal(parseDuration('1h30m', 0), 5_400_000);
    assert.equal(parseDuration('250ms', 0), 250);
    assert.equal(parseDuration('5 minutes', 42), 42);
    assert.equal(parseDuration(undefined, 7), 7);
  });

  it('a successful sync sets Fetched, Applied and Ready to True and records the commit', () => {
    const s = nextStatus(
      gs(),
      {
        result: 'Applied',
        message: 'applied 2, pruned 0',
        commit: A,
        applied: 2,
        pruned: 0,
        durationMs: 12.4,
        inventory: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'c', namespace: 'ns' }],
      },
      '2026-01-01T00:00:00Z',
    );
    assert.deepEqual(
      s.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`),
      ['Fetched=True/Fetched', 'Applied=True/Applied', 'Ready=True/Synced'],
    );
    assert.equal(s.lastAppliedCommit, A);
    assert.equal(s.observedGeneration, 3);
    assert.deepEqual(s.history, [
      {
        time: '2026-01-01T00:00:00Z',
        result: 'Applied',
        message: 'applied 2, pruned 0',
        durationMs: 12,
        commit: A,
        applied: 2,
        pruned: 0,
      },
    ]);
  });

  it('a rejected commit keeps the last applied commit and inventory, and says why', () => {
    const good = nextStatus(
      gs(),
      {
        result: 'Applied',
        message: 'ok',
        commit: A,
        durationMs: 1,
        inventory: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'c' }],
      },
      '2026-01-01T00:00:00Z',
    );
    const bad = nextStatus(
      gs(good),
      {
        result: 'InvalidManifests',
        message: '[TRL_GITOPS_MANIFEST] apps/x.yaml#1: invalid YAML at line 3',
        commit: B,
        durationMs: 1,
      },
      '2026-01-01T00:01:00Z',
    );
    assert.equal(bad.lastAppliedCommit, A);
    assert.equal(bad.lastFetchedCommit, B);
    assert.deepEqual(bad.inventory, good.inventory);
    const ready = bad.conditions!.find((c) => c.type === 'Ready')!;
    assert.equal(ready.status, 'False');
    assert.equal(ready.reason, 'InvalidManifests');
    assert.match(ready.message!, /invalid YAML at line 3 — still running commit a{12}/);
    assert.equal(
      bad.conditions!.find((c) => c.type === 'Fetched')!.lastTransitionTime,
      '2026-01-01T00:00:00Z',
      'Fetched stayed True, so its transition time is kept',
    );
    assert.deepEqual(
      bad.history!.map((h) => h.result),
      ['InvalidManifests', 'Applied'],
    );
  });

  it('a failed fetch keeps the Applied condition and keeps at most 10 results', () => {
    let status = nextStatus(gs(), { result: 'Applied', message: 'ok', commit: A, durationMs: 1 });
    for (let i = 0; i < 12; i++)
      status = nextStatus(gs(status), { result: 'FetchFailed', message: 'git fetch failed', durationMs: 1 });
    assert.equal(status.history!.length, 10);
    assert.equal(status.conditions!.find((c) => c.type === 'Applied')!.status, 'True');
    assert.equal(status.conditions!.find((c) => c.type === 'Fetched')!.status, 'False');
    assert.equal(status.lastFetchedCommit, A);
  });
});
