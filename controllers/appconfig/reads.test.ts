import assert from 'node:assert/strict';
import type { Informer, KubeObject } from '../../kube/index.js';
import { LiveReads } from './reads.js';

const web: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'ns', uid: 'uid-web', resourceVersion: '7' },
};
const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };

/** The part of an Informer LiveReads uses: a cache that holds `web` once `synced`. */
function fakeInformer(): { informer: Informer<KubeObject>; list(): void } {
  const state = { synced: false };
  const informer = {
    get synced() {
      return state.synced;
    },
    get: (name: string, namespace?: string) => (state.synced && name === 'web' && namespace === 'ns' ? web : undefined),
    controlledBy: () => (state.synced ? [web] : []),
  };
  return { informer: informer as unknown as Informer<KubeObject>, list: () => (state.synced = true) };
}

describe('LiveReads', () => {
  it('records nothing as read while the kind is still listing: a read after the list sees the object', () => {
    // A render reads the workload while another reconcile's watch of its kind is still listing; the
    // apply after the list came in must see the object (else it creates one that exists: a 409).
    const { informer, list } = fakeInformer();
    const reads = new LiveReads(() => informer, 'ns');
    assert.equal(reads.get(ref), undefined, 'not listed yet');
    list();
    assert.equal(reads.get(ref), web, 'listed: the object, not the earlier miss');
  });

  it('keeps the first read of a listed kind for the whole reconcile, until this reconcile writes it', () => {
    const { informer, list } = fakeInformer();
    list();
    const reads = new LiveReads(() => informer, 'ns');
    assert.equal(reads.first(ref), web);
    const written = { ...web, metadata: { ...web.metadata, resourceVersion: '8' } };
    reads.wrote(written);
    assert.equal(reads.get(ref), written, 'the write answer replaces it for later reads');
    assert.equal(reads.first(ref), web, 'first() still names the version first read');
  });

  it('reads nothing of a kind not watched', () => {
    assert.equal(new LiveReads(() => undefined, 'ns').get(ref), undefined);
  });
});
