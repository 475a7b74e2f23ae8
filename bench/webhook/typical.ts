import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { packageRoot } from '../../controlplane/index.js';
import type { KubeObject } from '../../kube/index.js';

/** The built-in WorkloadDefinitions and TraitDefinitions the chart installs (charts/trellis/files/definitions). */
export async function chartDefinitions(): Promise<KubeObject[]> {
  const dir = path.join(packageRoot(), 'charts', 'trellis', 'files', 'definitions');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
  return Promise.all(files.map(async (f) => parse(await readFile(path.join(dir, f), 'utf8')) as KubeObject));
}

const NAMESPACE = 'bench-webhook';

/**
 * A typical ApplicationConfiguration: two components with parameter values, a dataOutput feeding a
 * dataInput, a CUE-templated trait and a definitionRef trait both in name/properties shorthand, a
 * scope. `variant` changes a property, so the CUE render cannot come from the cache.
 */
export function typicalAppConfig(name: string, variant?: number): KubeObject {
  return {
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'ApplicationConfiguration',
    metadata: { name, namespace: NAMESPACE },
    spec: {
      components: [
        {
          componentName: 'frontend',
          parameterValues: [{ name: 'image', value: 'shop/frontend:1.4.2' }],
          dataInputs: [
            { valueFrom: { dataOutputName: 'db-endpoint' }, toFieldPaths: ['spec.template.metadata.annotations.db'] },
          ],
          traits: [{ trait: { name: 'scaler', properties: { replicas: variant === undefined ? 3 : 3 + variant } } }],
          scopes: [{ scopeRef: { apiVersion: 'core.oam.dev/v1alpha2', kind: 'HealthScope', name: 'shop-health' } }],
        },
        {
          componentName: 'database',
          dataOutputs: [{ name: 'db-endpoint', fieldPath: 'status.endpoint', conditions: [{ op: 'notEmpty' }] }],
          traits: [{ trait: { name: 'bench-scaler', properties: { replicaCount: 1 } } }],
        },
      ],
    },
  };
}

/** What the AppConfig refers to: its two Components and the definitionRef TraitDefinition. */
export const benchObjects: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } },
  {
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'TraitDefinition',
    metadata: { name: 'bench-scaler' },
    spec: { workloadRefPath: 'spec.workloadRef', definitionRef: { name: 'manualscalertraits.core.oam.dev' } },
  },
  {
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'Component',
    metadata: { name: 'frontend', namespace: NAMESPACE },
    spec: {
      workload: { type: 'webservice', properties: { image: 'shop/frontend:1.4.1', port: 8080 } },
      parameters: [{ name: 'image', fieldPaths: ['properties.image'] }],
    },
  },
  {
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'Component',
    metadata: { name: 'database', namespace: NAMESPACE },
    spec: {
      workload: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        spec: {
          selector: { matchLabels: { app: 'db' } },
          template: {
            metadata: { labels: { app: 'db' } },
            spec: { containers: [{ name: 'postgres', image: 'postgres:16' }] },
          },
        },
      },
    },
  },
];
