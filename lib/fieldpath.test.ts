import assert from 'node:assert/strict';
import { deleteFieldPath, formatFieldPath, getFieldPath, parseFieldPath, setFieldPath } from './fieldpath.js';

describe('fieldpath', () => {
  it('parses upstream field paths with indexes and quoted keys', () => {
    assert.deepEqual(parseFieldPath('spec.containers[0].image'), ['spec', 'containers', 0, 'image']);
    assert.deepEqual(parseFieldPath('metadata.labels["app.oam.dev/name"]'), ['metadata', 'labels', 'app.oam.dev/name']);
    assert.equal(
      formatFieldPath(['metadata', 'labels', 'app.oam.dev/name', 0]),
      'metadata.labels["app.oam.dev/name"][0]',
    );
  });

  it('rejects malformed paths with a readable reason', () => {
    assert.throws(() => parseFieldPath('spec..x'), /TRL_FIELD_PATH.*empty segment/);
    assert.throws(() => parseFieldPath('spec.containers[x]'), /neither an index nor a quoted key/);
    assert.throws(() => parseFieldPath(''), /it is empty/);
  });

  it('reads, writes (creating objects and arrays on the way) and deletes values', () => {
    const obj: Record<string, unknown> = { spec: { containers: [{ image: 'a' }] } };
    assert.equal(getFieldPath(obj, 'spec.containers[0].image'), 'a');
    assert.equal(getFieldPath(obj, 'spec.missing.deeper'), undefined);
    setFieldPath(obj, 'spec.containers[0].image', 'b');
    setFieldPath(obj, 'spec.template.spec.volumes[0].name', 'v');
    assert.deepEqual(obj, { spec: { containers: [{ image: 'b' }], template: { spec: { volumes: [{ name: 'v' }] } } } });
    deleteFieldPath(obj, 'spec.template');
    assert.deepEqual(obj, { spec: { containers: [{ image: 'b' }] } });
  });

  it('refuses to write through a scalar', () => {
    assert.throws(() => setFieldPath({ spec: 'x' }, 'spec.replicas', 1), /spec is "x", not an object/);
  });
});
