import assert from 'node:assert/strict';
import { cloneJson } from './clone.js';

describe('lib: cloneJson', () => {
  it('copies nested objects and arrays, sharing nothing with the original', () => {
    const original = {
      kind: 'Deployment',
      spec: { replicas: 2, template: { spec: { containers: [{ name: 'main', ports: [{ containerPort: 80 }] }] } } },
      empty: null,
      flag: false,
    };
    const copy = cloneJson(original);
    assert.deepEqual(copy, original);
    copy.spec.template.spec.containers[0]!.ports[0]!.containerPort = 8080;
    copy.spec.replicas = 3;
    assert.equal(original.spec.template.spec.containers[0]!.ports[0]!.containerPort, 80);
    assert.equal(original.spec.replicas, 2);
  });

  it('gives an unfrozen copy of a deep-frozen object (the render cache hands out frozen results)', () => {
    const frozen = Object.freeze({
      metadata: Object.freeze({ labels: Object.freeze({ a: 'b' }) }),
      list: Object.freeze([Object.freeze({ x: 1 })]),
    });
    const copy = cloneJson(frozen as unknown) as {
      metadata: { labels: Record<string, string> };
      list: { x: number }[];
    };
    copy.metadata.labels.c = 'd';
    copy.list[0]!.x = 2;
    copy.list.push({ x: 3 });
    assert.deepEqual(frozen, { metadata: { labels: { a: 'b' } }, list: [{ x: 1 }] });
  });

  it('returns primitives as they are', () => {
    for (const v of ['s', 1, 0, true, null, undefined]) assert.equal(cloneJson(v), v);
  });
});
