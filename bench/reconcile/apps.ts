import type { KubeObject } from '../../kube/index.js';

const OAM = 'core.oam.dev/v1alpha2';

/**
 * One benchmark application: two webservice Components (Deployment + Service each) with three
 * traits each — scaler (a patch: 0 replicas, so no pods load the machine), expose (a Service) and
 * ingress (an Ingress). 8 objects per application.
 */
export function appObjects(namespace: string, i: number): { components: KubeObject[]; app: KubeObject } {
  const name = `app-${String(i).padStart(4, '0')}`;
  const component = (role: string): KubeObject => ({
    apiVersion: OAM,
    kind: 'Component',
    metadata: { name: `${name}-${role}`, namespace },
    spec: {
      workload: { type: 'webservice', properties: { image: `example.com/${role}:1.0`, port: 8080 } },
      parameters: [{ name: 'image', fieldPaths: ['properties.image'] }],
    },
  });
  const traits = (role: string) => [
    { trait: { name: 'scaler', properties: { replicas: 0 } } },
    { trait: { name: 'expose', properties: { ports: [{ port: 9090, targetPort: 8080 }] } } },
    { trait: { name: 'ingress', properties: { host: `${name}-${role}.bench.example.com` } } },
  ];
  return {
    components: [component('web'), component('api')],
    app: {
      apiVersion: OAM,
      kind: 'ApplicationConfiguration',
      metadata: { name, namespace },
      spec: {
        components: ['web', 'api'].map((role) => ({
          componentName: `${name}-${role}`,
          parameterValues: [{ name: 'image', value: `example.com/${role}:1.1` }],
          traits: traits(role),
        })),
      },
    },
  };
}

/** Objects each application renders to, by kind. */
export const CHILDREN_PER_APP = { Deployment: 2, Service: 4, Ingress: 2 } as const;
