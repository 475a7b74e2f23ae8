import assert from 'node:assert/strict';
import type { KubeObject } from '../kube/types.js';
import { undeclaredFields, withoutFields } from './undeclared-fields.js';

describe('apply: fields the schema does not declare', () => {
  it("reads the paths from the API server's refusal (as kube-apiserver 1.36 words it)", () => {
    assert.deepEqual(
      undeclaredFields(
        'failed to create typed patch object (ns/b; example.com/v1, Kind=Bar): .spec.foo: field not declared in schema',
      ),
      ['.spec.foo'],
    );
    assert.deepEqual(
      undeclaredFields(
        'failed to create typed patch object (ns/b; example.com/v1, Kind=Baz): .spec.list[0].extra: field not declared in schema',
      ),
      ['.spec.list[0].extra'],
    );
    assert.deepEqual(undeclaredFields('.spec.key: expected string, got &value.valueUnstructured{Value:42}'), []);
    const strict =
      'Bar in version "v1" cannot be handled as a Bar: strict decoding error: unknown field "spec.foo", unknown field "spec.list[0].extra"';
    assert.deepEqual(undeclaredFields(strict), ['.spec.foo', '.spec.list[0].extra'], "a strict create's refusal");
  });

  it('removes them from a copy, by field, index and map-list key; a path it cannot find is not counted', () => {
    const obj: KubeObject = {
      apiVersion: 'example.com/v1',
      kind: 'Baz',
      metadata: { name: 'b' },
      spec: { key: 'v', foo: 'bar', list: [{ name: 'x', extra: 1 }], ports: [{ name: 'http', port: 80, bogus: true }] },
    };
    const { object, removed } = withoutFields(obj, [
      '.spec.foo',
      '.spec.list[0].extra',
      '.spec.ports[name="http"].bogus',
      '.spec.nothing',
    ]);
    assert.deepEqual(object.spec, { key: 'v', list: [{ name: 'x' }], ports: [{ name: 'http', port: 80 }] });
    assert.deepEqual(removed, ['spec.foo', 'spec.list[0].extra', 'spec.ports[name="http"].bogus']);
    assert.equal((obj.spec as { foo?: string }).foo, 'bar', 'the input is left alone');
  });
});
