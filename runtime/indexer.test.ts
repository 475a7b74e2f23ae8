import assert from 'node:assert/strict';
import type { InformerHandlers, KubeObject } from '../kube/index.js';
import { Indexer } from './indexer.js';

describe('runtime: Indexer', () => {
  it('finds objects by computed values and follows updates and deletes', () => {
    let h: InformerHandlers<KubeObject> = {};
    const idx = new Indexer<KubeObject>(
      { on: (handlers: InformerHandlers<KubeObject>) => (h = handlers) },
      (o) => (o.spec as { uses: string[] }).uses,
    );
    const app = (name: string, uses: string[]): KubeObject => ({
      apiVersion: 'v1',
      kind: 'X',
      metadata: { name, namespace: 'ns' },
      spec: { uses },
    });
    h.add!(app('a', ['web', 'db']));
    h.add!(app('b', ['web']));
    assert.deepEqual(
      idx
        .get('web')
        .map((o) => o.metadata.name)
        .sort(),
      ['a', 'b'],
    );
    h.update!(app('a', ['db']), app('a', ['web', 'db']));
    assert.deepEqual(
      idx.get('web').map((o) => o.metadata.name),
      ['b'],
    );
    h.delete!(app('b', ['web']));
    assert.deepEqual(idx.get('web'), []);
    assert.deepEqual(
      idx.get('db').map((o) => o.metadata.name),
      ['a'],
    );
  });
});
