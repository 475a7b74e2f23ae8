import assert from 'node:assert/strict';
import { builtinKinds, guessResourceName, isScalableKind } from './builtin-kinds.js';

describe('definitions: built-in kinds', () => {
  describe('isScalableKind', () => {
    it('knows the kinds with spec.replicas, ReplicationController of the core group among them', () => {
      const kinds = [
        ['apps/v1', 'Deployment'],
        ['apps/v1', 'StatefulSet'],
        ['apps/v1', 'ReplicaSet'],
      ];
      for (const [apiVersion, kind] of [...kinds, ['v1', 'ReplicationController']]) {
        assert.equal(isScalableKind(apiVersion!, kind!), true, `${kind}`);
      }
    });

    it('is false for kinds without replicas, and for a scalable kind name in another group', () => {
      const kinds = [
        ['apps/v1', 'DaemonSet'],
        ['batch/v1', 'Job'],
        ['v1', 'ConfigMap'],
        ['example.com/v1', 'Deployment'],
      ];
      for (const [apiVersion, kind] of kinds) {
        assert.equal(isScalableKind(apiVersion!, kind!), false, `${apiVersion} ${kind}`);
      }
    });
  });

  describe('guessResourceName', () => {
    it('makes the lowercase plural, with the group', () => {
      assert.equal(guessResourceName('example.com/v1', 'Foo'), 'foos.example.com');
      assert.equal(guessResourceName('example.com/v1', 'Policy'), 'policies.example.com');
      assert.equal(guessResourceName('example.com/v1', 'Gateway'), 'gateways.example.com');
      assert.equal(guessResourceName('example.com/v1', 'Ingress'), 'ingresses.example.com');
      assert.equal(guessResourceName('v1', 'Widget'), 'widgets');
    });

    it('guesses what the built-in kinds are really called (those with regular plurals)', () => {
      for (const k of builtinKinds().filter((k) => !k.apiVersion.startsWith('core.oam.dev/'))) {
        assert.equal(guessResourceName(k.apiVersion, k.kind), k.name, `${k.apiVersion} ${k.kind}`);
      }
    });
  });
});
