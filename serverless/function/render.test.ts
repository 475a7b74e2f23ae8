import assert from 'node:assert/strict';
import { isTrellisError } from '../../lib/errors.js';
import type { KubeObject } from '../../kube/types.js';
import type { FunctionSpec } from './config.js';
import { renderFunctionService, renderRevision } from './render.js';
import { newRevision } from './revision.js';
import type { FunctionObject } from './config.js';

const fn = (spec: FunctionSpec, labels?: Record<string, string>) => ({
  apiVersion: 'serverless.trellis.dev/v1alpha1' as const,
  kind: 'Function' as const,
  metadata: { name: 'hello', namespace: 'shop', uid: 'u1', ...(labels ? { labels } : {}) },
  spec,
});
type Dep = KubeObject & {
  spec: {
    replicas?: number;
    selector: unknown;
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        nodeSelector?: object;
        tolerations?: unknown[];
        terminationGracePeriodSeconds: number;
        containers: {
          name: string;
          image: string;
          command?: string[];
          env: { name: string; value: string }[];
          readinessProbe: object;
        }[];
      };
    };
  };
};
type Svc = KubeObject & { spec: { selector?: object; ports: object[] } };

/** Revision 1 of `fn` rendered, as the controller renders it. */
const renderFunction = (f: FunctionObject, options: Parameters<typeof renderRevision>[2] = {}) =>
  renderRevision(f, newRevision(f, 1, { apiVersion: 'serverless.trellis.dev/v1alpha1', kind: 'Function' }), options);

describe('serverless: renderRevision', () => {
  it('renders a Deployment without replicas (the autoscaler owns them) and a Service, named after the revision and owned by the Function', () => {
    const [d, s] = renderFunction(
      fn(
        { image: 'example/hello:1', port: 9000, env: [{ name: 'GREETING', value: 'hi' }], timeoutSeconds: 60 },
        { 'app.oam.dev/name': 'shop' },
      ),
    ) as [Dep, Svc];
    assert.equal(d.metadata.name, 'hello-00001');
    assert.equal(s.metadata.name, 'hello-00001');
    assert.equal(d.spec.replicas, undefined);
    assert.deepEqual(d.metadata.ownerReferences, [
      {
        apiVersion: 'serverless.trellis.dev/v1alpha1',
        kind: 'Function',
        name: 'hello',
        uid: 'u1',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    assert.deepEqual(d.spec.selector, { matchLabels: { 'serverless.trellis.dev/revision': 'hello-00001' } });
    assert.equal(d.spec.template.metadata.labels['serverless.trellis.dev/function'], 'hello');
    assert.equal(d.spec.template.metadata.labels['app.oam.dev/name'], 'shop', "the Function's labels reach the pods");
    const [c] = d.spec.template.spec.containers;
    assert.equal(c!.image, 'example/hello:1');
    assert.deepEqual(c!.env, [
      { name: 'GREETING', value: 'hi' },
      { name: 'PORT', value: '9000' },
    ]);
    assert.deepEqual(c!.readinessProbe, { tcpSocket: { port: 9000 }, periodSeconds: 1, failureThreshold: 1 });
    assert.equal(d.spec.template.spec.terminationGracePeriodSeconds, 65, 'instances get the request timeout to finish');
    assert.deepEqual(s.spec.selector, { 'serverless.trellis.dev/revision': 'hello-00001' });
    assert.deepEqual(s.spec.ports, [{ name: 'http', port: 80, targetPort: 9000, protocol: 'TCP' }]);
    const own = renderFunctionService(fn({ image: 'example/hello:1', port: 9000 })) as Svc;
    assert.equal(own.metadata.name, 'hello', "the Function's own Service");
    assert.equal(
      own.spec.selector,
      undefined,
      "its endpoints are the runtime's to write (activators, or instances in serve mode)",
    );
    assert.equal(
      own.metadata.annotations?.['serverless.trellis.dev/endpoints-selector'],
      undefined,
      "not the local runner's either",
    );
    assert.deepEqual(own.spec.ports, [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
  });

  it('for the local backend: pods go to the runner node, and the Service has no selector but tells the runner which pods are its endpoints', () => {
    const [d, s] = renderFunction(
      fn({ handler: 'node handler.js', workingDir: 'examples/function-hello', readinessPath: '/healthz' }),
      { backend: 'local' },
    ) as [Dep, Svc];
    const pod = d.spec.template.spec;
    assert.deepEqual(pod.nodeSelector, { 'serverless.trellis.dev/runtime': 'local' });
    assert.deepEqual(pod.tolerations, [
      { key: 'serverless.trellis.dev/runtime', operator: 'Equal', value: 'local', effect: 'NoSchedule' },
    ]);
    assert.deepEqual(pod.containers[0]!.command, ['node', 'handler.js']);
    assert.deepEqual(pod.containers[0]!.readinessProbe, {
      httpGet: { path: '/healthz', port: 8080 },
      periodSeconds: 1,
      failureThreshold: 1,
    });
    assert.equal(s.spec.selector, undefined);
    assert.equal(
      s.metadata.annotations?.['serverless.trellis.dev/endpoints-selector'],
      'serverless.trellis.dev/revision=hello-00001',
    );
  });

  it('merges spec.template into the pods, as duck-typed traits (env, labels, sidecar) patch it', () => {
    const [d] = renderFunction(
      fn({
        image: 'x',
        env: [{ name: 'A', value: '1' }],
        template: {
          metadata: { labels: { team: 'a', 'serverless.trellis.dev/function': 'stolen' } },
          spec: {
            containers: [
              {
                name: 'function',
                env: [
                  { name: 'B', value: '2' },
                  { name: 'PORT', value: '1' },
                ],
              },
              { name: 'proxy', image: 'envoy' },
            ],
            volumes: [{ name: 'cache', emptyDir: {} }],
          },
        },
      }),
    ) as [Dep];
    const t = d.spec.template;
    assert.equal(t.metadata.labels.team, 'a');
    assert.equal(
      t.metadata.labels['serverless.trellis.dev/function'],
      'hello',
      'the function label cannot be overridden',
    );
    assert.equal(
      t.metadata.labels['serverless.trellis.dev/revision'],
      'hello-00001',
      'the selector label cannot be overridden',
    );
    assert.deepEqual(
      t.spec.containers.map((c) => c.name),
      ['function', 'proxy'],
    );
    assert.deepEqual(t.spec.containers[0]!.env, [
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
      { name: 'PORT', value: '8080' },
    ]);
    assert.deepEqual((t.spec as unknown as { volumes: unknown }).volumes, [{ name: 'cache', emptyDir: {} }]);
  });

  it('refuses a handler-only Function on the Kubernetes backend, saying what to set', () => {
    assert.throws(
      () => renderFunction(fn({ handler: 'node handler.js' })),
      (err: unknown) =>
        isTrellisError(err, 'TRL_FUNCTION_NO_IMAGE') &&
        err.field === 'spec.image' &&
        /local process runner/.test(err.message),
    );
  });

  it('with the queue-proxy (kubernetes backend): a sidecar fronts the function, the Service targets it and publishes its meter', () => {
    const f = fn({ image: 'ghcr.io/shop/hello:1', readinessPath: '/healthz', timeoutSeconds: 45 });
    const [dep, svc] = renderFunction(f, { queueProxy: { image: 'ghcr.io/trellis/trellis:1.2.0' } }) as [Dep, Svc];
    const [fnContainer, sidecar] = dep.spec.template.spec
      .containers as (Dep['spec']['template']['spec']['containers'][0] & Record<string, unknown>)[];
    assert.equal(fnContainer!.name, 'function');
    assert.equal(
      fnContainer!.readinessProbe,
      undefined,
      'readiness goes through the sidecar, which probes the function',
    );
    assert.equal(sidecar!.name, 'queue-proxy');
    assert.equal(sidecar!.image, 'ghcr.io/trellis/trellis:1.2.0');
    assert.equal(sidecar!.command, undefined, "the image's entrypoint (trellis) runs");
    assert.deepEqual(sidecar!.args, [
      'queue-proxy',
      '--upstream-port',
      '8080',
      '--timeout-seconds',
      '45',
      '--probe-path',
      '/healthz',
    ]);
    assert.deepEqual(sidecar!.ports, [
      { name: 'queue-proxy', containerPort: 8012, protocol: 'TCP' },
      { name: 'trellis-meter', containerPort: 9091, protocol: 'TCP' },
    ]);
    assert.deepEqual(sidecar!.readinessProbe, {
      httpGet: { path: '/ready', port: 'trellis-meter' },
      periodSeconds: 1,
      failureThreshold: 1,
    });
    assert.equal(
      (dep.spec.template.spec as { automountServiceAccountToken?: boolean }).automountServiceAccountToken,
      false,
    );
    assert.deepEqual(svc.spec.ports, [
      { name: 'http', port: 80, targetPort: 'queue-proxy', protocol: 'TCP' },
      { name: 'trellis-meter', port: 9091, targetPort: 'trellis-meter', protocol: 'TCP' },
    ]);
  });

  it('with the queue-proxy: refuses a function port the sidecar takes, naming spec.port', () => {
    assert.throws(
      () => renderFunction(fn({ image: 'x:1', port: 8012 }), { queueProxy: { image: 't:1' } }),
      (err: unknown) =>
        isTrellisError(err) &&
        err.code === 'TRL_FUNCTION_INVALID' &&
        err.field === 'spec.port' &&
        /port 8012 is the queue-proxy's/.test(err.message),
    );
  });

  it('the local backend ignores the queue-proxy: its meter runs inside the handler', () => {
    const [dep, svc] = renderFunction(fn({ handler: 'node index.js' }), {
      backend: 'local',
      queueProxy: { image: 't:1' },
    }) as [Dep, Svc];
    assert.deepEqual(
      dep.spec.template.spec.containers.map((c) => c.name),
      ['function'],
    );
    assert.equal(svc.spec.ports.length, 1);
  });
});
