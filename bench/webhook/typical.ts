import type { KubeObject } from '../../kube/index.js';

/**
 * A typical ApplicationConfiguration: two components with parameter values, a dataOutput feeding a
 * dataInput, a full-object ManualScalerTrait and a trait in name/properties shorthand, a scope.
 */
export function typicalAppConfig(namespace: string, name: string): KubeObject {
  return {
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'ApplicationConfiguration',
    metadata: { name, namespace },
    spec: {
      components: [
        {
          componentName: 'frontend',
          parameterValues: [{ name: 'image', value: 'shop/frontend:1.4.2' }, { name: 'instance-name', value: `${name}-frontend` }],
          dataInputs: [{ valueFrom: { dataOutputName: 'db-endpoint' }, toFieldPaths: ['spec.env[0].value'] }],
          traits: [
            { trait: { apiVersion: 'core.oam.dev/v1alpha2', kind: 'ManualScalerTrait', metadata: { name: `${name}-frontend-scaler` }, spec: { replicaCount: 3 } } },
            { trait: { name: 'bench-scaler', properties: { replicaCount: 2 } } },
          ],
          scopes: [{ scopeRef: { apiVersion: 'core.oam.dev/v1alpha2', kind: 'HealthScope', name: 'shop-health' } }],
        },
        {
          componentName: 'database',
          parameterValues: [{ name: 'image', value: 'postgres:16' }],
          dataOutputs: [{ name: 'db-endpoint', fieldPath: 'status.endpoint', conditions: [{ op: 'notEmpty' }] }],
          traits: [{ trait: { apiVersion: 'core.oam.dev/v1alpha2', kind: 'ManualScalerTrait', metadata: { name: `${name}-database-scaler` }, spec: { replicaCount: 1 } } }],
        },
      ],
    },
  };
}

/** The TraitDefinition the shorthand trait names. */
export const benchTraitDefinition: KubeObject = {
  apiVersion: 'core.oam.dev/v1alpha2',
  kind: 'TraitDefinition',
  metadata: { name: 'bench-scaler' },
  spec: { workloadRefPath: 'spec.workloadRef', definitionRef: { name: 'manualscalertraits.core.oam.dev' } },
};
