import { parse } from 'yaml';
import type { KubeObject } from '../../kube/index.js';

export const configMapYaml = (name: string, v: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  v: "${v}"\n`;

/** One application: a Component with a Deployment workload and the ApplicationConfiguration using it. */
export function appYaml(i: number): string {
  const name = `app-${String(i).padStart(4, '0')}`;
  return `apiVersion: core.oam.dev/v1alpha2
kind: Component
metadata:
  name: ${name}
spec:
  workload:
    apiVersion: apps/v1
    kind: Deployment
    spec:
      selector: { matchLabels: { app: ${name} } }
      template:
        metadata: { labels: { app: ${name} } }
        spec:
          containers:
            - name: main
              image: registry.example.com/${name}:1.0.${i}
              ports: [{ containerPort: 8080 }]
  parameters:
    - name: image
      fieldPaths: ["spec.template.spec.containers[0].image"]
---
apiVersion: core.oam.dev/v1alpha2
kind: ApplicationConfiguration
metadata:
  name: ${name}
spec:
  components:
    - componentName: ${name}
      parameterValues:
        - { name: image, value: "registry.example.com/${name}:1.0.${i}" }
`;
}

/** `apps/app-0000.yaml` … one file per application. */
export function appFiles(count: number): Record<string, string> {
  return Object.fromEntries(
    Array.from({ length: count }, (_, i) => [`apps/app-${String(i).padStart(4, '0')}.yaml`, appYaml(i)]),
  );
}

export function appObjects(count: number): KubeObject[] {
  return Array.from({ length: count }, (_, i) =>
    appYaml(i)
      .split('\n---\n')
      .map((doc) => parse(doc) as KubeObject),
  ).flat();
}
