import assert from 'node:assert/strict';
import type { DataOperation } from '../apis/generated/shared.js';
import { applyOperations, operationsReady, operationTarget } from './data-store.js';

const where = { object: 'ApplicationConfiguration/ns/a', field: 'spec.components[0].dataOutputs[0].outputStore' };
const op = (o: Partial<DataOperation>): DataOperation => ({ type: 'jsonPatch', op: 'add', toFieldPath: 'data', ...o });

describe('render: store-based data passing (upstream outputStore / inputStore)', () => {
  it('writes into a JSON document held as a string with toDataPath (upstream TestApplyOutputRef / TestApplyInputRef)', () => {
    const target: Record<string, unknown> = { status: { key: 'value-in-configmap' } };
    const workload = { status: { key: 'value-in-workload' } };
    applyOperations(
      target,
      [
        op({ toFieldPath: 'status.key', value: '"{}"' }),
        op({ toFieldPath: 'status.key', toDataPath: 'value', valueFrom: { fieldPath: 'status.key' } }),
      ],
      workload,
      where,
    );
    assert.deepEqual(target, { status: { key: '{"value":"value-in-workload"}' } });
  });

  it('runs the upstream data-passing example: producer → ConfigMap data → consumer spec', () => {
    const source = { spec: { key1: 'test-value1', key2: 'test-value2' } };
    const store: Record<string, unknown> = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'store' } };
    applyOperations(
      store,
      [
        op({ toFieldPath: 'data', value: '{}' }),
        op({ toFieldPath: 'data.key1', valueFrom: { fieldPath: 'spec.key1' } }),
        op({ toFieldPath: 'data.key2', valueFrom: { fieldPath: 'spec.key2' } }),
      ],
      source,
      where,
    );
    assert.deepEqual(store.data, { key1: 'test-value1', key2: 'test-value2' });
    const sink: Record<string, unknown> = { apiVersion: 'example.com/v1', kind: 'Foo', metadata: { name: 'sink' } };
    applyOperations(
      sink,
      [
        op({ toFieldPath: 'spec', value: '{}' }),
        op({ toFieldPath: 'spec.key', value: '"{}"' }),
        op({ toFieldPath: 'spec.key', toDataPath: 'key1', valueFrom: { fieldPath: 'data.key1' } }),
        op({ toFieldPath: 'spec.key', toDataPath: 'key2', valueFrom: { fieldPath: 'data.key2' } }),
      ],
      store,
      where,
    );
    assert.deepEqual(JSON.parse((sink.spec as { key: string }).key), { key1: 'test-value1', key2: 'test-value2' });
  });

  it('replace needs something to replace; delete removes; a bad type or a missing value is named', () => {
    const t: Record<string, unknown> = { data: { a: '1' } };
    applyOperations(
      t,
      [op({ op: 'replace', toFieldPath: 'data.a', value: '"2"' }), op({ op: 'delete', toFieldPath: 'data.b' })],
      {},
      where,
    );
    assert.deepEqual(t, { data: { a: '2' } });
    assert.throws(
      () => applyOperations(t, [op({ op: 'replace', toFieldPath: 'data.z', value: '1' })], {}, where),
      /TRL_RENDER_DATA_OPERATION.*outputStore\.operations\[0\]\.toFieldPath: replace: nothing at data\.z/,
    );
    assert.throws(
      () => applyOperations(t, [op({ type: 'merge' as 'jsonPatch' })], {}, where),
      /operations\[0\]\.type: type "merge" is not supported/,
    );
    assert.throws(
      () => applyOperations(t, [op({})], {}, where),
      /operations\[0\]: sets neither value nor valueFrom\.fieldPath/,
    );
  });

  it('operationsReady: waits for each valueFrom and each condition, naming the first not ready; the AppConfig answers valueFrom of a condition', () => {
    const ops = [
      op({
        toFieldPath: 'data.app-hash',
        toDataPath: 'sub-path',
        valueFrom: { fieldPath: 'status.key' },
        conditions: [{ op: 'eq', valueFrom: { fieldPath: 'metadata.labels.app-hash' }, fieldPath: 'status.app-hash' }],
      }),
    ];
    const app = { metadata: { labels: { 'app-hash': 'hash-v2' } } };
    assert.deepEqual(operationsReady({}, ops, app), {
      ready: false,
      pending: { operation: ops[0], reason: 'status.key not found in object' },
    });
    assert.equal(
      operationsReady({ status: { key: 'test', 'app-hash': 'hash-v1' } }, ops, app).pending?.reason,
      'status.app-hash is "hash-v1", waiting for "hash-v2"',
    );
    assert.deepEqual(operationsReady({ status: { key: 'test', 'app-hash': 'hash-v2' } }, ops, app), { ready: true });
    assert.equal(operationTarget(ops[0]!), 'data.app-hash(sub-path)');
  });
});
