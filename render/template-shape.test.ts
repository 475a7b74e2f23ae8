import assert from 'node:assert/strict';
import { readCatalog, templateOf } from '../definitions/index.js';
import { fixedReference, fixedString, mayWrite, pathsOverlap, templateShape } from './template-shape.js';

const catalog = new Map(readCatalog().map((d) => [d.metadata.name!, templateOf(d)!]));
const shapeOf = (name: string) => templateShape(catalog.get(name)!);

describe('render: templateShape (what a template may set, without CUE)', () => {
  it('reads the kind a built-in workload renders, fixed whatever the inputs', () => {
    assert.equal(fixedString(shapeOf('webservice'), ['output', 'apiVersion']), 'apps/v1');
    assert.equal(fixedString(shapeOf('webservice'), ['output', 'kind']), 'Deployment');
    assert.equal(fixedString(shapeOf('worker'), ['output', 'kind']), 'Deployment');
    assert.equal(fixedString(shapeOf('cronjob'), ['output', 'kind']), 'CronJob');
    assert.equal(fixedString(shapeOf('autoscaler'), ['output', 'kind']), 'HorizontalPodAutoscaler');
  });

  it("says where a built-in trait's patch may write", () => {
    assert.deepEqual(mayWrite(shapeOf('scaler'), ['patch']), [['spec', 'replicas']]);
    assert.deepEqual(mayWrite(shapeOf('env'), ['patch']), [['spec', 'template', 'spec', 'containers']]);
    assert.ok(pathsOverlap(mayWrite(shapeOf('labels'), ['patch']), [['metadata', 'labels', 'team']]));
    assert.deepEqual(mayWrite(shapeOf('autoscaler'), ['patch']), [], 'no patch at all');
    assert.ok(!pathsOverlap(mayWrite(shapeOf('scaler'), ['patch']), mayWrite(shapeOf('env'), ['patch'])));
    assert.ok(pathsOverlap(mayWrite(shapeOf('env'), ['patch']), mayWrite(shapeOf('sidecar'), ['patch'])));
  });

  it('fixes nothing a comprehension, a default, a reference or an optional field decides', () => {
    const guarded = templateShape(
      'parameter: {s: *false | bool}\nif !parameter.s {output: {apiVersion: "apps/v1", kind: "Deployment"}}\nif parameter.s {output: {apiVersion: "apps/v1", kind: "StatefulSet"}}\n',
    );
    assert.equal(
      fixedString(guarded, ['output', 'kind']),
      undefined,
      'CUE without inputs would pick the default branch',
    );
    assert.deepEqual(mayWrite(guarded, ['output']).sort(), [['apiVersion'], ['apiVersion'], ['kind'], ['kind']]);
    assert.equal(
      fixedString(templateShape('output: {apiVersion: "apps/v1", kind: *"Deployment" | "StatefulSet"}\n'), [
        'output',
        'kind',
      ]),
      undefined,
    );
    assert.equal(
      fixedString(templateShape('parameter: k: string\noutput: {apiVersion: "v1", kind: parameter.k}\n'), [
        'output',
        'kind',
      ]),
      undefined,
    );
    assert.equal(
      fixedString(templateShape('output: {apiVersion: "v1", kind?: "ConfigMap"}\n'), ['output', 'kind']),
      undefined,
    );
    assert.equal(
      fixedString(templateShape('output: {apiVersion: "v1", kind: "\\(context.name)"}\n'), ['output', 'kind']),
      undefined,
    );
    // A literal beside a conditional one: the result is that literal or a conflict, never another kind.
    const both = templateShape(
      'parameter: s?: bool\noutput: {apiVersion: "apps/v1", kind: "Deployment"}\nif parameter.s != _|_ {output: kind: "StatefulSet"}\n',
    );
    assert.equal(fixedString(both, ['output', 'kind']), 'Deployment');
  });

  it('counts what it cannot read as "anything may be written there"', () => {
    assert.deepEqual(mayWrite(templateShape('_p: spec: replicas: 2\npatch: _p\n'), ['patch']), [[]], 'a reference');
    assert.deepEqual(
      mayWrite(templateShape('parameter: [string]: string\npatch: metadata: { for k, v in parameter { (k): v } }\n'), [
        'patch',
      ]),
      [['metadata']],
      'a dynamic label',
    );
    assert.deepEqual(
      mayWrite(templateShape('patch: { _base, spec: x: 1 }\n_base: {}\n'), ['patch']),
      [[]],
      'an embedding',
    );
    assert.deepEqual(
      mayWrite(templateShape('for k in ["a"] { (k): 1 }\n'), ['patch']),
      [[]],
      'a top-level comprehension that may declare anything',
    );
    assert.deepEqual(
      mayWrite(templateShape('parameter: n: *1 | int\nif parameter.n > 1 { patch: spec: replicas: parameter.n }\n'), [
        'patch',
      ]),
      [['spec', 'replicas']],
      'a conditional patch still counts',
    );
  });

  it('names the plain reference a field is set to, only when nothing else may set it', () => {
    assert.equal(fixedReference(shapeOf('webservice'), ['output', 'metadata', 'name']), 'context.name');
    assert.equal(fixedReference(shapeOf('webservice'), ['outputs', 'service', 'metadata', 'name']), 'context.name');
    assert.equal(fixedReference(shapeOf('webservice'), ['output', 'kind']), undefined, 'a literal is no reference');
    assert.equal(
      fixedReference(templateShape('output: metadata: name: context.name // the component\n'), [
        'output',
        'metadata',
        'name',
      ]),
      'context.name',
    );
    assert.equal(
      fixedReference(
        templateShape(
          'output: metadata: name: context.name\nif parameter.n != _|_ { output: metadata: name: parameter.n }\n',
        ),
        ['output', 'metadata', 'name'],
      ),
      undefined,
      'a second, conditional contribution',
    );
    assert.equal(
      fixedReference(templateShape('output: metadata: { _m, name: context.name }\n'), ['output', 'metadata', 'name']),
      undefined,
      'an embedding may set it too',
    );
    assert.equal(
      fixedReference(templateShape('output: metadata: name: "\\(context.name)-x"\n'), ['output', 'metadata', 'name']),
      undefined,
      'an interpolation',
    );
    assert.equal(
      fixedReference(templateShape('output: metadata: name: context.name + "-x"\n'), ['output', 'metadata', 'name']),
      undefined,
      'an expression',
    );
  });

  it('reads label chains, quoted labels, commas and comments', () => {
    const shape = templateShape(
      'output: {\n  apiVersion: "v1" // core\n  kind: "ConfigMap", metadata: "name": "fixed"\n  data: a: "b"\n}\n',
    );
    assert.equal(fixedString(shape, ['output', 'kind']), 'ConfigMap');
    assert.equal(fixedString(shape, ['output', 'metadata', 'name']), 'fixed');
    assert.deepEqual(mayWrite(shape, ['output', 'data']), [['a']]);
  });
});
