import assert from 'node:assert/strict';
import { checkDataFlow, evaluateDataOutput, evaluateInputConditions, writeDataInput } from './data-flow.js';

const source = { status: { key: 'test', list: [], phase: 'Ready', expected: 'Ready' } };
const comp = (
  name: string,
  index: number,
  data: { outputs?: string[]; inputs?: string[] } = {},
  traits: { name: string; outputs?: string[]; inputs?: string[] }[] = [],
) => ({
  name,
  index,
  dataOutputs: (data.outputs ?? []).map((n) => ({ name: n, fieldPath: 'status.key' })),
  dataInputs: (data.inputs ?? []).map((n) => ({ valueFrom: { dataOutputName: n }, toFieldPaths: ['spec.key'] })),
  traits: traits.map((t, i) => ({
    name: t.name,
    index: i,
    dataOutputs: (t.outputs ?? []).map((n) => ({ name: n, fieldPath: 'status.x' })),
    dataInputs: (t.inputs ?? []).map((n) => ({ valueFrom: { dataOutputName: n } })),
  })),
});

describe('render: data flow', () => {
  it('evaluateDataOutput: waits for a missing or empty field, and for every condition', () => {
    assert.deepEqual(evaluateDataOutput(source, { name: 'k', fieldPath: 'status.key' }), {
      ready: true,
      value: 'test',
    });
    assert.deepEqual(evaluateDataOutput({}, { name: 'k', fieldPath: 'status.key' }), {
      ready: false,
      reason: 'status.key is not set yet',
    });
    assert.deepEqual(evaluateDataOutput(source, { name: 'k', fieldPath: 'status.list' }), {
      ready: false,
      value: [],
      reason: 'status.list is empty',
    });
    const cond = (conditions: object[]) =>
      evaluateDataOutput(source, { name: 'k', fieldPath: 'status.key', conditions } as never);
    assert.equal(cond([{ op: 'eq', value: 'test' }]).ready, true);
    assert.deepEqual(cond([{ op: 'eq', value: 'other' }]), {
      ready: false,
      value: 'test',
      reason: 'status.key is "test", waiting for "other"',
    });
    assert.equal(cond([{ op: 'notEq', value: 'test' }]).reason, 'status.key is "test", waiting for it to change');
    const appConfig = { metadata: { labels: { phase: 'Ready' } } };
    assert.equal(
      evaluateDataOutput(
        source,
        {
          name: 'k',
          fieldPath: 'status.key',
          conditions: [{ op: 'eq', fieldPath: 'status.phase', valueFrom: { fieldPath: 'metadata.labels.phase' } }],
        },
        appConfig,
      ).ready,
      true,
      'valueFrom reads the AppConfig, as upstream',
    );
    assert.match(
      cond([{ op: 'eq', fieldPath: 'status.phase', valueFrom: { fieldPath: 'metadata.labels.phase' } }]).reason ?? '',
      /nothing to compare with \(the AppConfig has no metadata\.labels\.phase\)/,
    );
    assert.equal(cond([{ op: 'notEmpty', fieldPath: 'status.list' }]).reason, 'status.list is empty');
    assert.equal(
      cond([
        { op: 'eq', value: 'test' },
        { op: 'eq', fieldPath: 'status.phase', value: 'Running' },
      ]).reason,
      'status.phase is "Ready", waiting for "Running"',
    );
  });

  it("writeDataInput writes the value at every toFieldPath; an array is appended (conformance 05's commented source)", () => {
    const sink: Record<string, unknown> = { spec: { key: [{ name: 'exist', value: 'existtt' }] } };
    writeDataInput(sink, { valueFrom: { dataOutputName: 'k' }, toFieldPaths: ['spec.key', 'spec.copy[0]'] }, 'test');
    assert.deepEqual(sink, { spec: { key: 'test', copy: ['test'] } });
    const list: Record<string, unknown> = { spec: { key: [{ name: 'exist', value: 'existtt' }] } };
    writeDataInput(list, { valueFrom: { dataOutputName: 'k' }, toFieldPaths: ['spec.key', 'spec.fresh'] }, [
      { name: 'a', value: 'aa' },
      { name: 'b', value: 'bb' },
    ]);
    assert.deepEqual(list, {
      spec: {
        key: [
          { name: 'exist', value: 'existtt' },
          { name: 'a', value: 'aa' },
          { name: 'b', value: 'bb' },
        ],
        fresh: [
          { name: 'a', value: 'aa' },
          { name: 'b', value: 'bb' },
        ],
      },
    });
  });

  it('a dataOutput without fieldPath orders only: ready at once, or when its conditions hold', () => {
    assert.deepEqual(evaluateDataOutput({}, { name: 'k' }), { ready: true });
    assert.deepEqual(
      evaluateDataOutput(source, {
        name: 'k',
        conditions: [{ op: 'eq', fieldPath: 'status.phase', value: 'Running' }],
      }),
      { ready: false, reason: 'status.phase is "Ready", waiting for "Running"' },
    );
    assert.deepEqual(
      evaluateDataOutput(source, { name: 'k', conditions: [{ op: 'eq', fieldPath: 'status.phase', value: 'Ready' }] }),
      { ready: true },
    );
  });

  it('dataInputs[].conditions are checked on the consumer itself; a consumer not created yet passes', () => {
    const input = {
      valueFrom: { dataOutputName: 'k' },
      conditions: [{ op: 'eq' as const, fieldPath: 'status.phase', value: 'Idle' }],
    };
    assert.deepEqual(evaluateInputConditions(undefined, input), { ready: true });
    assert.deepEqual(evaluateInputConditions(source, input), {
      ready: false,
      reason: 'dataInputs conditions: status.phase is "Ready", waiting for "Idle"',
    });
  });

  it('checkDataFlow accepts a source feeding a sink (conformance 05), and a trait feeding its own workload', () => {
    checkDataFlow(
      [comp('source', 0, { outputs: ['example-key'] }), comp('sink', 1, { inputs: ['example-key'] })],
      'ApplicationConfiguration/ns/a',
    );
    checkDataFlow(
      [comp('web', 0, { inputs: ['ready'] }, [{ name: 'web-probe', outputs: ['ready'] }])],
      'ApplicationConfiguration/ns/a',
    );
    const storeOnly = {
      ...comp('sink', 0),
      dataInputs: [{ inputStore: { apiVersion: 'v1', kind: 'ConfigMap', name: 'store' } }],
    };
    checkDataFlow([storeOnly], 'ApplicationConfiguration/ns/a');
  });

  it('checkDataFlow rejects dangling, duplicate and cyclic declarations, naming where', () => {
    assert.throws(() => checkDataFlow([comp('sink', 0, { inputs: ['nope'] })], 'AC'), {
      code: 'TRL_RENDER_DATA_DANGLING',
      message:
        '[TRL_RENDER_DATA_DANGLING] AC: spec.components[0].dataInputs[0].valueFrom.dataOutputName: component "sink" takes dataOutput "nope", which nothing declares',
    });
    assert.throws(
      () => checkDataFlow([comp('a', 0, { outputs: ['k'] }), comp('b', 1, { outputs: ['k'] })], 'AC'),
      /TRL_RENDER_DATA_DUPLICATE.*dataOutput "k" is declared by both component "a" and component "b"/,
    );
    assert.throws(
      () =>
        checkDataFlow(
          [
            comp('a', 0, { outputs: ['x'], inputs: ['z'] }),
            comp('b', 1, { outputs: ['y'], inputs: ['x'] }),
            comp('c', 2, { outputs: ['z'], inputs: ['y'] }),
          ],
          'AC',
        ),
      /TRL_RENDER_DATA_CYCLE.*data inputs form a cycle: component "a" takes from component "c" takes from component "b" takes from component "a"/,
    );
    assert.throws(
      () => checkDataFlow([comp('self', 0, { outputs: ['s'], inputs: ['s'] })], 'AC'),
      /cycle: component "self" takes from component "self"/,
    );
    // A trait and its own workload, each waiting for the other's value: the one real deadlock left once producer traits are created (issue 19).
    assert.throws(
      () =>
        checkDataFlow(
          [comp('web', 0, { outputs: ['w'], inputs: ['t'] }, [{ name: 'web-probe', outputs: ['t'], inputs: ['w'] }])],
          'AC',
        ),
      /TRL_RENDER_DATA_CYCLE.*cycle: component "web" takes from trait "web-probe" of component "web" takes from component "web"/,
    );
  });
});
