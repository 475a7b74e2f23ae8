import assert from 'node:assert/strict';
import type { KubeObject } from '../../kube/types.js';
import { Problems } from '../problems.js';
import { checkComponentReferences } from './component-reference.js';
import { checkDataDependencies } from './data-dependencies.js';
import { checkImmutable } from './immutable.js';

const OBJ = 'ApplicationConfiguration/shop/web';

describe('webhooks: checkComponentReferences()', () => {
  it('accepts componentName or revisionName', () => {
    const problems = new Problems(OBJ);
    checkComponentReferences({ components: [{ componentName: 'a' }, { revisionName: 'a-v1' }] }, problems);
    assert.ok(problems.empty);
  });

  it('rejects both, and neither, naming the entry', () => {
    const problems = new Problems(OBJ);
    checkComponentReferences({ components: [{ componentName: 'a', revisionName: 'a-v1' }, {}] }, problems);
    assert.throws(
      () => problems.throwIfAny(),
      (err: Error) => {
        assert.match(err.message, /^\[TRL_ADMISSION_COMPONENT_REF\] ApplicationConfiguration\/shop\/web: 2 problems: /);
        assert.match(
          err.message,
          /spec\.components\[0\]: set either componentName \("a", .*\) or revisionName \("a-v1", .*\), not both/,
        );
        assert.match(err.message, /spec\.components\[1\]: set componentName .* or revisionName/);
        return true;
      },
    );
  });
});

describe('webhooks: checkDataDependencies()', () => {
  it('accepts inputs that name an output of another component or trait (conformance 05)', () => {
    const problems = new Problems(OBJ);
    checkDataDependencies(
      {
        components: [
          { componentName: 'source', dataOutputs: [{ name: 'example-key', fieldPath: 'status.key' }] },
          {
            componentName: 'sink',
            dataInputs: [{ valueFrom: { dataOutputName: 'example-key' }, toFieldPaths: ['spec.key'] }],
            traits: [{ trait: {}, dataOutputs: [{ name: 't' }] }],
          },
          { componentName: 'other', traits: [{ trait: {}, dataInputs: [{ valueFrom: { dataOutputName: 't' } }] }] },
        ],
      },
      problems,
    );
    assert.ok(problems.empty, problems.list.map((p) => p.message).join('\n'));
  });

  it('rejects an input whose output nobody declares, listing those declared', () => {
    const problems = new Problems(OBJ);
    checkDataDependencies(
      {
        components: [
          { componentName: 'a', dataOutputs: [{ name: 'x' }] },
          { componentName: 'b', dataInputs: [{ valueFrom: { dataOutputName: 'y' } }] },
        ],
      },
      problems,
    );
    assert.throws(() => problems.throwIfAny(), {
      message:
        '[TRL_ADMISSION_DATA_INPUT] ApplicationConfiguration/shop/web: spec.components[1].dataInputs[0].valueFrom.dataOutputName: no dataOutput named "y" is declared in this ApplicationConfiguration (declared: "x")',
    });
  });

  it('rejects duplicate output names and inputs without a name', () => {
    const problems = new Problems(OBJ);
    checkDataDependencies(
      {
        components: [
          {
            componentName: 'a',
            dataOutputs: [{ name: 'x' }, { name: 'x' }],
            dataInputs: [{ toFieldPaths: ['spec.a'] }],
          },
        ],
      },
      problems,
    );
    assert.deepEqual(
      problems.list.map((p) => [p.code, p.field]),
      [
        ['TRL_ADMISSION_DATA_OUTPUT', 'spec.components[0].dataOutputs[1].name'],
        ['TRL_ADMISSION_DATA_INPUT', 'spec.components[0].dataInputs[0].valueFrom.dataOutputName'],
      ],
    );
  });

  it('accepts nameless outputs and inputs that only write or read a store (upstream outputStore / inputStore)', () => {
    const problems = new Problems(OBJ);
    const store = { apiVersion: 'v1', kind: 'ConfigMap', name: 'store' };
    checkDataDependencies(
      {
        components: [
          { componentName: 'a', dataOutputs: [{ outputStore: store }] },
          { componentName: 'b', dataInputs: [{ inputStore: store }] },
        ],
      },
      problems,
    );
    assert.ok(problems.empty, JSON.stringify(problems.list));
  });
});

describe('webhooks: checkImmutable()', () => {
  const def = (ref: string, extra: object = {}): KubeObject => ({
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'TraitDefinition',
    metadata: { name: 'scaler' },
    spec: { definitionRef: { name: ref }, ...extra },
  });

  const served = async (name: string) => name.endsWith('.example.com');

  it('allows updates that keep definitionRef.name (and creates)', async () => {
    const problems = new Problems('TraitDefinition/scaler');
    await checkImmutable(def('a.example.com'), def('a.example.com', { podDisruptive: true }), problems, served);
    await checkImmutable(undefined, def('b.example.com'), problems, served);
    assert.ok(problems.empty);
  });

  it('allows correcting a definitionRef.name that names no served kind (upstream chart 14c vs 10b)', async () => {
    const problems = new Problems('ScopeDefinition/healthscopes.core.oam.dev');
    const scope = (ref: string): KubeObject => ({ ...def(ref), kind: 'ScopeDefinition' });
    await checkImmutable(scope('healthscope.core.oam'), scope('healthscopes.example.com'), problems, served);
    assert.ok(problems.empty);
  });

  it('rejects a changed definitionRef.name and workloadRefPath, saying what it was', async () => {
    const problems = new Problems('TraitDefinition/scaler');
    await checkImmutable(
      def('a.example.com', { workloadRefPath: 'spec.workloadRef' }),
      def('b.example.com', { workloadRefPath: 'spec.target' }),
      problems,
      served,
    );
    assert.equal(problems.list.length, 2);
    assert.equal(
      problems.list[0]!.message.split(';')[0],
      '[TRL_ADMISSION_IMMUTABLE] TraitDefinition/scaler: spec.definitionRef.name: is immutable: was "a.example.com", now "b.example.com"',
    );
    assert.equal(problems.list[1]!.field, 'spec.workloadRefPath');
  });
});
