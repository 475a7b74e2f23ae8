import assert from 'node:assert/strict';
import type { TraitDefinition } from '../definitions/types.js';
import { CueEngine } from '../cue/index.js';
import { vetDefinition } from './vet.js';

const trait = (template: string): TraitDefinition =>
  ({
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'TraitDefinition',
    metadata: { name: 'replicas' },
    spec: { schematic: { cue: { template } } },
  }) as TraitDefinition;

describe('application: vetDefinition', () => {
  let engine: CueEngine;
  before(() => {
    engine = new CueEngine({ workers: 1 });
  });
  after(() => engine.stop());

  it('passes a template whose references are all declared, with its parameter schema', async () => {
    const result = await vetDefinition(
      trait('parameter: replicas: *1 | int\npatch: spec: replicas: parameter.replicas\n'),
      { engine },
    );
    assert.equal(result.id, 'TraitDefinition/replicas');
    assert.deepEqual(result.schema, { type: 'object', properties: { replicas: { type: 'integer', default: 1 } } });
  });

  it('names the definition, the field and the line of a reference to an undeclared parameter field', async () => {
    await assert.rejects(
      vetDefinition(trait('parameter: replicas: *1 | int\npatch: spec: replicas: parameter.replicaz\n'), { engine }),
      {
        code: 'TRL_DEFINITION_TEMPLATE',
        message:
          "[TRL_DEFINITION_TEMPLATE] TraitDefinition/replicas: spec.schematic.cue.template: the CUE template does not compile: patch.spec.replicas: parameter.replicaz is not declared in the template's parameter (line 2:34)",
      },
    );
  });
});
