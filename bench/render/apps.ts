/**
 * The benchmark's applications: each has a webservice (scaler, ingress, labels) and a worker (env,
 * sidecar, annotations) — 2 components, 3 traits each — with per-app images, hosts and values, so
 * no two apps share an evaluation (the cache has nothing to give on the cold pass).
 */
import type { ApplicationConfiguration, Component } from '../../apis/generated/core.oam.dev-v1alpha2.js';

export interface BenchApp {
  appConfig: ApplicationConfiguration;
  components: Component[];
}

const component = (name: string, workload: Record<string, unknown>): Component => ({
  apiVersion: 'core.oam.dev/v1alpha2',
  kind: 'Component',
  metadata: { name, namespace: 'bench' },
  spec: { workload },
});

export function benchApp(i: number): BenchApp {
  const web = `web-${i}`;
  const worker = `worker-${i}`;
  return {
    components: [
      component(web, {
        type: 'webservice',
        properties: {
          image: `ghcr.io/example/shop:${i}.0.0`,
          port: 8000 + (i % 1000),
          env: [{ name: 'APP', value: `shop-${i}` }],
        },
      }),
      component(worker, {
        type: 'worker',
        properties: { image: `ghcr.io/example/jobs:${i}.1.0`, cmd: ['/jobs', `--shard=${i}`] },
      }),
    ],
    appConfig: {
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ApplicationConfiguration',
      metadata: { name: `shop-${i}`, namespace: 'bench' },
      spec: {
        components: [
          {
            componentName: web,
            traits: [
              { trait: { name: 'scaler', properties: { replicas: 1 + (i % 7) } } },
              { trait: { name: 'ingress', properties: { host: `shop-${i}.example.com`, path: '/' } } },
              { trait: { name: 'labels', properties: { team: `team-${i % 13}`, app: `shop-${i}` } } },
            ],
          },
          {
            componentName: worker,
            traits: [
              { trait: { name: 'env', properties: { env: { SHARD: String(i), REGION: `r${i % 3}` } } } },
              { trait: { name: 'sidecar', properties: { name: 'log', image: `fluent/fluent-bit:3.${i % 10}` } } },
              { trait: { name: 'annotations', properties: { 'shop.example.com/id': String(i) } } },
            ],
          },
        ],
      },
    },
  };
}
