import assert from 'node:assert/strict';
import { testCluster } from '../support/cluster.js';
import { useNamespace } from '../support/namespace.js';
import { isInvalid, type KubeApiError } from '../../kube/index.js';

describe('CRD schemas enforced by the API server', () => {
  const ns = useNamespace();
  const appConfig = (components: unknown[]) => ({
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'ApplicationConfiguration',
    metadata: { name: 'bad', namespace: ns.name },
    spec: { components },
  });
  const rejectedWith = (pattern: RegExp) => (err: KubeApiError) => {
    assert.ok(isInvalid(err), `expected 422 Invalid, got ${err.statusCode} ${err.message}`);
    assert.match(err.message, pattern);
    return true;
  };

  it('rejects a component entry with both componentName and revisionName, quoting the rule', async () => {
    await assert.rejects(
      testCluster().kube.apply(appConfig([{ componentName: 'web', revisionName: 'web-v1' }])),
      rejectedWith(
        /ApplicationConfiguration\.core\.oam\.dev "bad" is invalid: spec\.components\[0\]: Invalid value: .*set exactly one of componentName \(follow the latest revision\) and revisionName/,
      ),
    );
  });

  it('rejects a parameterValue without a value, naming the field', async () => {
    await assert.rejects(
      testCluster().kube.apply(appConfig([{ componentName: 'web', parameterValues: [{ name: 'image' }] }])),
      rejectedWith(/spec\.components\[0\]\.parameterValues\[0\]\.value: Required value/),
    );
  });

  it('rejects a ManualScalerTrait whose replicaCount is not an integer', async () => {
    await assert.rejects(
      testCluster().kube.create({
        apiVersion: 'core.oam.dev/v1alpha2',
        kind: 'ManualScalerTrait',
        metadata: { name: 's', namespace: ns.name },
        spec: { replicaCount: 'three' },
      }),
      rejectedWith(
        /spec\.replicaCount: Invalid value: "string": spec\.replicaCount in body must be of type integer: "string"/,
      ),
    );
  });

  it('accepts the same objects once corrected, so the rejections above were about those fields', async () => {
    const { kube } = testCluster();
    await kube.apply(appConfig([{ componentName: 'web', parameterValues: [{ name: 'image', value: 'nginx:1' }] }]));
    await kube.apply({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ManualScalerTrait',
      metadata: { name: 's', namespace: ns.name },
      spec: { replicaCount: 3 },
    });
  });
});
