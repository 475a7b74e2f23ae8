import assert from 'node:assert/strict';
import { kubevelaDefinitions } from '../../application/testdata/kubevela-cases.js';
import { CueEngine } from '../../cue/index.js';
import { builtinCatalog, layeredSource, StaticDefinitionSource } from '../../definitions/index.js';
import { staticComponents } from '../../render/index.js';
import type { AdmissionRequest } from '../admission.js';
import { cachedParameterSchemas } from '../parameter-schemas.js';
import { cachedTemplateFacts } from '../template-facts.js';
import { validateApplications } from './validate-application.js';

describe('webhooks: validate-applications takes the quick path (no CUE) for an edit of an admitted Application', function () {
  this.timeout(120_000);
  const engine = new CueEngine({ workers: 1 });
  after(() => engine.stop());
  const parameterSchema = cachedParameterSchemas(engine);
  const handler = validateApplications({
    definitions: layeredSource(new StaticDefinitionSource({ objects: kubevelaDefinitions() }), builtinCatalog()),
    components: () => staticComponents([]),
    engine,
    parameterSchema,
    templateFacts: cachedTemplateFacts(parameterSchema),
  });
  const request = (replicas: unknown) =>
    ({
      uid: 'u',
      kind: { group: 'core.oam.dev', version: 'v1beta1', kind: 'Application' },
      operation: 'CREATE',
      name: 'shop',
      namespace: 'default',
      object: {
        apiVersion: 'core.oam.dev/v1beta1',
        kind: 'Application',
        metadata: { name: 'shop', namespace: 'default' },
        spec: {
          components: [
            {
              name: 'web',
              type: 'worker',
              properties: { image: 'nginx' },
              traits: [{ type: 'scaler', properties: { replicas } }],
            },
          ],
        },
      },
    }) as unknown as AdmissionRequest;

  it('renders the first time, then admits an edit without evaluating CUE; a bad edit is still denied by the render', async () => {
    await handler.handle(request(2));
    const evaluated = engine.stats.evaluated;
    assert.ok(evaluated > 0, 'the first review rendered (CUE)');
    await handler.handle(request(5));
    assert.equal(engine.stats.evaluated, evaluated, 'no CUE evaluation for the edit');
    await assert.rejects(handler.handle(request('three')), /TRL_RENDER_PARAMETER.*traits\[0\]\.properties\.replicas/);
  });
});
