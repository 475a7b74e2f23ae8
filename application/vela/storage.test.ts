import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { CueEngine } from '../../cue/index.js';
import type { KubeObject } from '../../kube/types.js';
import { goldenOf } from '../golden.js';
import { renderObjects } from '../offline.js';
import { KUBEVELA, kubevelaDefinitions, kubevelaMoreCases } from '../testdata/kubevela-cases.js';

type Container = { name: string; env?: unknown[]; volumeMounts?: unknown[]; volumeDevices?: unknown[] };
type PodSpec = { containers: Container[]; volumes?: unknown[] };
const podSpec = (o: KubeObject) => (o.spec as { template: { spec: PodSpec } }).template.spec;

/**
 * KubeVela's `storage` trait (../shared/conformance/kubevela/definitions/storage.yaml, unchanged) with
 * one kind of volume at a time and all together (application/testdata/kubevela-more/storage-*.yaml).
 *
 * Its `outputs` iterates `parameter.pvc`, `configMap` and `secret` with no `!= _|_` guard, so on
 * cuelang.org/go v0.14.1 an absent list leaves `outputs` with an incomplete error of its own
 * ("cannot reference optional field"). KubeVela never reads that error: it validates the instance
 * without `Concrete` and takes `outputs` member by member (`outputs.Fields()`,
 * pkg/cue/definition/template.go), so each member that exists renders. Trellis' evaluator reads
 * `outputs` the same way (cue/native/go/kubevela.go); before, it exported `outputs` whole and failed.
 */
describe('KubeVela storage trait: pvc, configMap, secret, emptyDir alone and together (issue 16)', () => {
  let engine: CueEngine;
  const cases = kubevelaMoreCases();
  const render = async (name: string) => {
    const c = cases.find((x) => x.name === `${name}.yaml`)!;
    const [a] = await renderObjects([...kubevelaDefinitions(), ...c.objects], { engine });
    return a.app.objects.map((o) => o.object);
  };
  before(function () {
    if (!existsSync(KUBEVELA)) this.skip();
    engine = new CueEngine({ engine: 'native' });
  });
  after(() => engine?.stop());

  it('only pvc: a PersistentVolumeClaim output, a pvc- volume and its mount; configMap/secret absent are no error', async () => {
    const [deployment, pvc, ...rest] = await render('storage-pvc');
    assert.equal(rest.length, 0);
    // outputs."pvc-\(v.name)" when mountOnly is false (its default): named v.name, accessModes and volumeMode defaulted,
    // storageClassName and resources.requests.storage passed through (8Gi only when not given).
    assert.deepEqual([pvc.kind, pvc.metadata.name], ['PersistentVolumeClaim', 'db-data']);
    assert.deepEqual(pvc.spec, {
      accessModes: ['ReadWriteOnce'],
      volumeMode: 'Filesystem',
      storageClassName: 'standard',
      resources: { requests: { storage: '2Gi' } },
    });
    // KubeVela's labels on a trait's output: resourceType TRAIT, trait type, the outputs key as trait.oam.dev/resource.
    assert.equal(pvc.metadata.labels!['trait.oam.dev/resource'], 'pvc-db-data');
    const spec = podSpec(deployment);
    // volumesList: name "pvc-" + v.name, persistentVolumeClaim.claimName v.name.
    assert.deepEqual(spec.volumes, [{ name: 'pvc-db-data', persistentVolumeClaim: { claimName: 'db-data' } }]);
    // volumeMountsList: volumeMode "Filesystem" (default) mounts at mountPath; "Block" would be a volumeDevice.
    // The patch's containers list has no patchKey, so it unifies by index: the first (only) container gets it;
    // env and volumeDevices are empty lists in the patch and appear as such (KubeVela renders them too).
    assert.deepEqual(spec.containers[0], {
      name: 'db',
      image: 'postgres:16',
      env: [],
      volumeDevices: [],
      volumeMounts: [{ name: 'pvc-db-data', mountPath: '/var/lib/postgresql/data' }],
    });
  });

  it('only configMap: a ConfigMap output with data, a configmap- volume with defaultMode 420, mountToEnv as a configMapKeyRef', async () => {
    const [deployment, cm] = await render('storage-configmap');
    assert.deepEqual([cm.kind, cm.metadata.name, cm.data], ['ConfigMap', 'web-config', { mode: 'production' }]);
    const spec = podSpec(deployment);
    // `configMap: { defaultMode: v.defaultMode (*420), name: v.name }`, items only when given.
    assert.deepEqual(spec.volumes, [
      { name: 'configmap-web-config', configMap: { defaultMode: 420, name: 'web-config' } },
    ]);
    // envList: mountToEnv → {name: envName, valueFrom.configMapKeyRef {name: v.name, key: configMapKey}}.
    assert.deepEqual(spec.containers[0].env, [
      { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'web-config', key: 'mode' } } },
    ]);
    assert.deepEqual(spec.containers[0].volumeMounts, [{ name: 'configmap-web-config', mountPath: '/etc/web' }]);
  });

  it('only secret: a Secret output with stringData, a secret- volume (secretName), mountToEnvs as secretKeyRefs', async () => {
    const [deployment, secret] = await render('storage-secret');
    assert.deepEqual([secret.kind, secret.metadata.name], ['Secret', 'api-creds']);
    assert.deepEqual((secret as unknown as { stringData: unknown }).stringData, { password: 's3cr3t' });
    assert.ok(!('data' in secret), 'data only when given');
    const spec = podSpec(deployment);
    assert.deepEqual(spec.volumes, [
      { name: 'secret-api-creds', secret: { defaultMode: 420, secretName: 'api-creds' } },
    ]);
    assert.deepEqual(spec.containers[0].env, [
      { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'api-creds', key: 'password' } } },
    ]);
    // `readOnly` is a parameter the template never reads: the mount has no readOnly.
    assert.deepEqual(spec.containers[0].volumeMounts, [{ name: 'secret-api-creds', mountPath: '/etc/creds' }]);
  });

  it('only emptyDir (on a worker): no output object, an emptydir- volume with its medium, and the mount', async () => {
    const objects = await render('storage-emptydir');
    assert.deepEqual(
      objects.map((o) => o.kind),
      ['Deployment'],
      'outputs iterates pvc, configMap, secret only',
    );
    const spec = podSpec(objects[0]);
    assert.deepEqual(spec.volumes, [{ name: 'emptydir-scratch', emptyDir: { medium: 'Memory' } }]);
    assert.deepEqual(spec.containers[0].volumeMounts, [{ name: 'emptydir-scratch', mountPath: '/scratch' }]);
    assert.deepEqual(spec.containers[0].env, [], 'the worker had no env: the patch sets an empty list');
  });

  it("together, over a webservice's own env and volume: appended by patchKey=name, nothing replaced or duplicated", async () => {
    const [deployment, ...outputs] = await render('storage-combined');
    // mountOnly: true → no object (shop-shared, shop-tls); mountOnly false (default) → one each for shop-uploads, shop-flags.
    assert.deepEqual(
      outputs.map((o) => `${o.kind}/${o.metadata.name}`),
      ['PersistentVolumeClaim/shop-uploads', 'ConfigMap/shop-flags'],
    );
    // No resources given: the template's `resources: requests: storage: "8Gi"`.
    assert.deepEqual((outputs[0].spec as { resources: unknown }).resources, { requests: { storage: '8Gi' } });
    const spec = podSpec(deployment);
    // volumes: // +patchKey=name — the webservice's `tmp` first, then the trait's in template order (pvc, configMap
    // only with a mountPath — shop-flags has none —, secret, emptyDir); a secret's items get mode *511.
    assert.deepEqual(spec.volumes, [
      { name: 'tmp', emptyDir: { medium: '' } },
      { name: 'pvc-shop-uploads', persistentVolumeClaim: { claimName: 'shop-uploads' } },
      { name: 'pvc-shop-shared', persistentVolumeClaim: { claimName: 'shop-shared' } },
      {
        name: 'secret-shop-tls',
        secret: { defaultMode: 420, secretName: 'shop-tls', items: [{ key: 'tls.crt', path: 'cert.pem', mode: 511 }] },
      },
      { name: 'emptydir-cache', emptyDir: { medium: '' } },
    ]);
    const [main] = spec.containers;
    // env: // +patchKey=name — the component's LOG_LEVEL kept, FLAGS (configMap mountToEnv) appended.
    assert.deepEqual(main.env, [
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'FLAGS', valueFrom: { configMapKeyRef: { name: 'shop-flags', key: 'flags' } } },
    ]);
    // volumeMounts: // +patchKey=name — subPath passed through when given.
    assert.deepEqual(main.volumeMounts, [
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'pvc-shop-uploads', mountPath: '/uploads', subPath: 'shop' },
      { name: 'pvc-shop-shared', mountPath: '/shared' },
      { name: 'secret-shop-tls', mountPath: '/etc/tls' },
      { name: 'emptydir-cache', mountPath: '/cache' },
    ]);
  });

  it("applied over Trellis' built-in storage (kubectl apply keeps the built-in label), it still merges as KubeVela's", async () => {
    const c = cases.find((x) => x.name === 'storage-combined.yaml')!;
    const labelled = kubevelaDefinitions().map((d) =>
      d.metadata.name === 'storage'
        ? { ...d, metadata: { ...d.metadata, labels: { 'trellis.dev/built-in': 'true' } } }
        : d,
    );
    const golden = await goldenOf([...labelled, ...c.objects], engine);
    assert.equal(golden.rendered, readFileSync(c.golden!, 'utf8'));
  });

  for (const c of cases.filter((x) => x.name.startsWith('storage-'))) {
    it(`golden: ${c.name}`, async () => {
      const golden = await goldenOf([...kubevelaDefinitions(), ...c.objects], engine);
      assert.equal(golden.rendered, readFileSync(c.golden!, 'utf8'));
    });
  }
});
