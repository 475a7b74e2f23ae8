import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { fromOpenFaaS, type OpenFaaSFunction } from './openfaas.js';
import { renderFunctionService, renderRevision } from './render.js';
import { newRevision } from './revision.js';

const seedFile = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'shared',
  'conformance',
  'seed-openfaas-function-component.yaml',
);

/** The seed's workload as the renderer would hand it over: named after the component, in its namespace. */
function seedWorkload(): OpenFaaSFunction {
  const component = parse(readFileSync(seedFile, 'utf8')) as { spec: { workload: OpenFaaSFunction } };
  return { ...component.spec.workload, metadata: { name: 'web-function', namespace: 'fn' } };
}

describe('serverless: fromOpenFaaS (the OpenFaaS Function of the conformance seed, unchanged)', () => {
  it("runs the seed's handler in its image with its environment, keeping one instance as OpenFaaS does", () => {
    const fn = fromOpenFaaS(seedWorkload());
    assert.equal(fn.spec?.image, 'function/nodeinfo');
    assert.equal(fn.spec?.handler, 'node main.js');
    assert.deepEqual(fn.spec?.env, [
      { name: 'http_proxy', value: 'http://proxy1.corp.com:3128' },
      { name: 'no_proxy', value: 'http://gateway/' },
    ]);
    assert.deepEqual(fn.spec?.scale, { min: 1 });
    const owner = { apiVersion: 'openfaas.com/v1', kind: 'Function' };
    const [deployment] = renderRevision(fn, newRevision(fn, 1, owner), { owner });
    const service = renderFunctionService(fn, { owner });
    const container = (
      deployment!.spec as { template: { spec: { containers: { command: string[]; env: { name: string }[] }[] } } }
    ).template.spec.containers[0]!;
    assert.deepEqual(container.command, ['node', 'main.js']);
    assert.deepEqual(
      container.env.map((e) => e.name),
      ['http_proxy', 'no_proxy', 'PORT'],
    );
    assert.equal(service!.metadata.name, 'web-function');
  });

  it('maps OpenFaaS scaling labels, resources, constraints and pod labels', () => {
    const fn = fromOpenFaaS({
      apiVersion: 'openfaas.com/v1',
      kind: 'Function',
      metadata: { name: 'resize', namespace: 'fn', uid: 'u1' },
      spec: {
        name: 'resize',
        image: 'example/resize:1',
        labels: {
          'com.openfaas.scale.zero': 'true',
          'com.openfaas.scale.max': '7',
          'com.openfaas.scale.target': '5',
          team: 'media',
        },
        limits: { memory: '128Mi' },
        constraints: ['disktype=ssd'],
        readOnlyRootFilesystem: true,
      },
    });
    assert.deepEqual(fn.spec?.scale, { min: 0, max: 7 });
    assert.deepEqual(fn.spec?.concurrency, { target: 5 });
    const owner = { apiVersion: 'openfaas.com/v1', kind: 'Function' };
    const [deployment] = renderRevision(fn, newRevision(fn, 1, owner), { owner });
    const spec = deployment!.spec as {
      template: {
        metadata: { labels: Record<string, string> };
        spec: { nodeSelector: object; containers: { resources: object; securityContext: object }[] };
      };
    };
    assert.equal(spec.template.metadata.labels.team, 'media');
    assert.deepEqual(spec.template.spec.nodeSelector, { disktype: 'ssd' });
    assert.deepEqual(spec.template.spec.containers[0]!.resources, { limits: { memory: '128Mi' } });
    assert.deepEqual(spec.template.spec.containers[0]!.securityContext, { readOnlyRootFilesystem: true });
    assert.deepEqual(deployment!.metadata.ownerReferences, [
      {
        apiVersion: 'openfaas.com/v1',
        kind: 'Function',
        name: 'resize',
        uid: 'u1',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  });
});

describe('serverless: fromOpenFaaS with the scale-to-zero labels (what the scale-to-zero trait sets)', () => {
  it('lets the function go to zero after com.openfaas.scale.zero-duration without a request', () => {
    const seed = seedWorkload();
    const fn = fromOpenFaaS({
      ...seed,
      spec: { ...seed.spec, labels: { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '10s' } },
    });
    assert.deepEqual(fn.spec?.scale, { min: 0, idleGraceSeconds: 10, stableWindowSeconds: 10, panicWindowSeconds: 6 });
    const long = fromOpenFaaS({
      ...seed,
      spec: { ...seed.spec, labels: { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '15m' } },
    });
    assert.deepEqual(
      long.spec?.scale,
      { min: 0, idleGraceSeconds: 900 },
      "the runtime's stable window is shorter than that anyway",
    );
    const off = fromOpenFaaS({
      ...seed,
      spec: { ...seed.spec, labels: { 'com.openfaas.scale.zero-duration': '10s' } },
    });
    assert.deepEqual(
      off.spec?.scale,
      { min: 1 },
      'without com.openfaas.scale.zero the duration means nothing, as in OpenFaaS',
    );
  });
});
