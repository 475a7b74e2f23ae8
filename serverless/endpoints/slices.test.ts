import assert from 'node:assert/strict';
import type { KubeObject } from '../../kube/types.js';
import {
  decideMode,
  LABEL_MODE,
  proxySlices,
  sameSlice,
  serveSlices,
  sliceAddress,
  type Capacity,
  type Slice,
} from './slices.js';

const service: KubeObject = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'hello', namespace: 'shop', uid: 'u-1' },
};
const warm: Capacity = {
  ready: 3,
  target: 100,
  panic: 40,
  stable: 35,
  targetBurstCapacity: 200,
  toZero: false,
  metered: true,
};

describe('serverless: the Function Service endpoints (proxy and serve mode)', () => {
  it('keeps the activators in the path at zero, idle, going to zero, split or short of spare capacity', () => {
    assert.deepEqual(decideMode(warm, 1).mode, 'serve', '3 × 100 − 40 − 200 = 60 spare');
    assert.match(decideMode(warm, 1).why, /3 ready × target 100 − concurrency 40 − burst capacity 200 = 60/);
    assert.equal(decideMode({ ...warm, panic: 101 }, 1).mode, 'proxy', 'one short');
    assert.match(decideMode({ ...warm, panic: 101 }, 1).why, /not enough spare capacity: .* = -1/);
    assert.match(decideMode({ ...warm, ready: 0 }, 1).why, /no instance is ready/);
    assert.match(decideMode({ ...warm, toZero: true }, 1).why, /going to zero/);
    assert.match(decideMode({ ...warm, stable: 0 }, 1).why, /idle/);
    assert.match(decideMode({ ...warm, targetBurstCapacity: -1 }, 1).why, /targetBurstCapacity is -1/);
    assert.match(
      decideMode({ ...warm, metered: false }, 1).why,
      /not every instance has a meter/,
      'requests skipping the activators must be counted',
    );
    assert.match(decideMode({ ...warm, scalingDown: true }, 1).why, /scaling down/, 'the activators drain removals');
    assert.equal(
      decideMode({ ...warm, targetBurstCapacity: 0, panic: 300 }, 1).mode,
      'serve',
      '0: out of the path whenever the instances can take it',
    );
    assert.match(decideMode(warm, 2).why, /split between 2 revisions/);
    assert.match(decideMode(warm, 0).why, /no revision serves it yet/);
    assert.match(decideMode(undefined, 1).why, /not been measured/);
  });

  it('publishes activators on loopback as a .localhost name (the API server refuses loopback IPs), others as they are', () => {
    assert.deepEqual(sliceAddress('127.0.0.1'), { addressType: 'FQDN', address: 'activator.localhost' });
    assert.deepEqual(sliceAddress('0.0.0.0'), { addressType: 'FQDN', address: 'activator.localhost' });
    assert.deepEqual(sliceAddress('::1'), { addressType: 'FQDN', address: 'activator.localhost' });
    assert.deepEqual(sliceAddress('10.1.2.3'), { addressType: 'IPv4', address: '10.1.2.3' });
    assert.deepEqual(sliceAddress('fd00::5'), { addressType: 'IPv6', address: 'fd00::5' });
    assert.deepEqual(sliceAddress('activator.trellis-system.svc'), {
      addressType: 'FQDN',
      address: 'activator.trellis-system.svc',
    });
  });

  it('proxy mode: one slice per address type and port, owned by the Service, named for what it holds', () => {
    const slices = proxySlices(service, [
      { host: '10.0.0.2', port: 8080 },
      { host: '10.0.0.1', port: 8080 },
      { host: '127.0.0.1', port: 9000 },
    ]);
    assert.equal(slices.length, 2);
    const [ip, local] = slices as [Slice, Slice];
    assert.deepEqual(
      ip.endpoints?.map((e) => e.addresses[0]),
      ['10.0.0.1', '10.0.0.2'],
    );
    assert.deepEqual(ip.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }], "the port name the Service's port has");
    assert.equal(local.addressType, 'FQDN');
    assert.deepEqual(ip.metadata.labels, {
      'kubernetes.io/service-name': 'hello',
      'endpointslice.kubernetes.io/managed-by': 'serverless.trellis.dev',
      [LABEL_MODE]: 'proxy',
    });
    assert.deepEqual(ip.metadata.ownerReferences, [
      { apiVersion: 'v1', kind: 'Service', name: 'hello', uid: 'u-1', controller: true, blockOwnerDeletion: true },
    ]);
    assert.match(ip.metadata.name!, /^hello-proxy-[0-9a-f]{10}$/);
    assert.notEqual(ip.metadata.name, local.metadata.name);
    assert.equal(
      proxySlices(service, [{ host: '10.0.0.1', port: 8080 }])[0]!.metadata.name,
      ip.metadata.name,
      'the same name while the port is the same: updated in place',
    );
  });

  it("serve mode: the revision's own slices, copied under the Service, with its port name", () => {
    const src: Slice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'hello-00001-abcde', namespace: 'shop' },
      addressType: 'IPv4',
      endpoints: [
        {
          addresses: ['10.244.0.7'],
          conditions: { ready: true },
          targetRef: { kind: 'Pod', name: 'p' },
          nodeName: 'n',
        },
      ],
      ports: [{ name: '', port: 9000, protocol: 'TCP' }],
    };
    const [copy] = serveSlices(service, 'hello-00001', [src]);
    assert.deepEqual(copy!.endpoints, src.endpoints);
    assert.deepEqual(copy!.ports, [{ name: 'http', port: 9000, protocol: 'TCP' }]);
    assert.equal(copy!.metadata.labels?.[LABEL_MODE], 'serve');
    assert.equal(copy!.metadata.labels?.['serverless.trellis.dev/revision'], 'hello-00001');
    assert.ok(sameSlice(copy, serveSlices(service, 'hello-00001', [src])[0]!), 'nothing to write when nothing changed');
    assert.ok(!sameSlice(copy, serveSlices(service, 'hello-00001', [{ ...src, endpoints: [] }])[0]!));
    assert.ok(!sameSlice(undefined, copy!));
  });
});
