import assert from 'node:assert/strict';
import type { ContainerizedWorkload } from '../apis/generated/core.oam.dev-v1alpha2.js';
import { containerizedWorkloadObjects, fnv32a } from './containerized-workload.js';

const cw = (
  containers: ContainerizedWorkload['spec']['containers'],
  extra: Partial<ContainerizedWorkload['spec']> = {},
): ContainerizedWorkload => ({
  apiVersion: 'core.oam.dev/v1alpha2',
  kind: 'ContainerizedWorkload',
  metadata: {
    name: 'blog',
    namespace: 'ns',
    uid: 'u-1',
    labels: { 'app.oam.dev/component': 'blog' },
    annotations: { note: 'x', 'trellis.dev/traits': 'a=patch' },
  },
  spec: { containers, ...extra },
});

describe('render: ContainerizedWorkload → Deployment + Service (upstream translation)', () => {
  it('fnv32a matches Go hash/fnv New32a', () => {
    assert.equal(fnv32a(''), 0x811c9dc5);
    assert.equal(fnv32a('a'), 0xe40c292c);
    assert.equal(fnv32a('/test/configfile/'), 2498542832);
  });

  it('selects pods by the workload uid, passes labels (to pods too) and annotations (not trellis.dev/*), translates env, ports, resources, os/arch', () => {
    const { deployment, service, configMaps } = containerizedWorkloadObjects(
      cw(
        [
          {
            name: 'web',
            image: 'img',
            command: ['/run'],
            ports: [
              { name: 'http', containerPort: 80 },
              { name: 'admin', containerPort: 9000, protocol: 'TCP' },
            ],
            env: [
              { name: 'A', value: '1' },
              { name: 'P', fromSecret: { name: 's', key: 'k' } },
            ],
            resources: { cpu: { required: '500m' }, memory: { required: '1Gi' } },
            imagePullSecret: 'pull',
          },
          { name: 'side', image: 'side', ports: [{ name: 'metrics', containerPort: 9100 }] },
        ],
        { osType: 'linux', arch: 'arm64' },
      ),
      { replicas: 3 },
    );
    assert.deepEqual(configMaps, []);
    assert.deepEqual(deployment.metadata, {
      name: 'blog',
      namespace: 'ns',
      labels: { 'app.oam.dev/component': 'blog' },
      annotations: { note: 'x' },
    });
    const spec = deployment.spec as {
      replicas: number;
      selector: unknown;
      template: { metadata: unknown; spec: Record<string, unknown> & { containers: Record<string, unknown>[] } };
    };
    assert.equal(spec.replicas, 3);
    assert.deepEqual(spec.selector, { matchLabels: { 'containerizedworkload.oam.crossplane.io': 'u-1' } });
    assert.deepEqual(spec.template.metadata, {
      labels: { 'app.oam.dev/component': 'blog', 'containerizedworkload.oam.crossplane.io': 'u-1' },
    });
    assert.deepEqual(spec.template.spec.nodeSelector, { 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'arm64' });
    assert.deepEqual(spec.template.spec.imagePullSecrets, [{ name: 'pull' }]);
    assert.deepEqual(spec.template.spec.containers[0], {
      name: 'web',
      image: 'img',
      command: ['/run'],
      ports: [
        { name: 'http', containerPort: 80 },
        { name: 'admin', containerPort: 9000, protocol: 'TCP' },
      ],
      env: [
        { name: 'A', value: '1' },
        { name: 'P', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
      ],
      resources: { requests: { cpu: '500m', memory: '1Gi' } },
    });
    assert.deepEqual((service!.spec as { ports: unknown[] }).ports, [
      { name: 'http', port: 80, targetPort: 80 },
      { name: 'admin', port: 9000, targetPort: 9000, protocol: 'TCP' },
      { name: 'metrics', port: 9100, targetPort: 9100 },
    ]);
    assert.equal((service!.spec as { type: string }).type, 'ClusterIP');
  });

  it('config files: literal values become one ConfigMap per container and directory, secrets a Secret volume', () => {
    const { deployment, configMaps, service } = containerizedWorkloadObjects(
      cw([
        {
          name: 'wp',
          image: 'wp',
          config: [
            { path: '/etc/app/a.conf', value: 'A' },
            { path: '/etc/app/b.conf', value: 'B' },
            { path: '/run/secret/pw', fromSecret: { name: 'db', key: 'password' } },
          ],
        },
      ]),
    );
    assert.equal(service, undefined, 'no ports, no Service');
    const name = `blog-wp-${fnv32a('/etc/app/')}`;
    assert.deepEqual(
      configMaps.map((c) => [c.metadata.name, c.data]),
      [[name, { 'a.conf': 'A', 'b.conf': 'B' }]],
    );
    const pod = (
      deployment.spec as { template: { spec: { volumes: unknown[]; containers: { volumeMounts: unknown[] }[] } } }
    ).template.spec;
    assert.deepEqual(pod.volumes, [
      { name, configMap: { name } },
      { name: 'db', secret: { secretName: 'db', items: [{ key: 'password', path: 'pw' }] } },
    ]);
    assert.deepEqual(pod.containers[0].volumeMounts, [
      { name, mountPath: '/etc/app/' },
      { name: 'db', mountPath: '/run/secret/' },
    ]);
  });
});
