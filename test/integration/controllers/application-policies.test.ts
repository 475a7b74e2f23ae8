import assert from 'node:assert/strict';
import path from 'node:path';
import { KUBEVELA, kubevelaDefinitions } from '../../../application/testdata/kubevela-cases.js';
import type { KubeObject } from '../../../kube/index.js';
import { testCluster } from '../../support/cluster.js';
import { useControllers } from '../../support/controllers.js';
import { kubectl } from '../../support/kubectl.js';
import { eventually, useNamespace } from '../../support/namespace.js';

type App = KubeObject & {
  status?: { status?: string; conditions?: { type: string; status: string; message?: string }[] };
};

/**
 * Issue 16: KubeVela's `shared-resource`, `garbage-collect` and `apply-once` policies on a real control
 * plane, the controller under the chart's RBAC.
 */
describe('controllers: KubeVela Application policies', () => {
  const ns = useNamespace();
  useControllers(ns);
  before(async () => {
    const applied = await kubectl(['apply', '-f', path.join(KUBEVELA, 'definitions', 'k8s-objects.yaml')]);
    assert.equal(applied.code, 0, applied.stderr);
  });
  after(async () => {
    const k8sObjects = kubevelaDefinitions().find((d) => d.metadata.name === 'k8s-objects')!;
    await kubectl(['delete', '--ignore-not-found', `componentdefinitions.core.oam.dev/${k8sObjects.metadata.name}`]);
  });

  /** An Application whose component `config` renders one ConfigMap per entry of `data` (named by its key), under `policies`. */
  const configs = (name: string, data: Record<string, Record<string, string>>, policies: unknown[]): KubeObject => ({
    apiVersion: 'core.oam.dev/v1beta1',
    kind: 'Application',
    metadata: { name, namespace: ns.name },
    spec: {
      components: [
        {
          name: 'config',
          type: 'k8s-objects',
          properties: {
            objects: Object.entries(data).map(([cm, d]) => ({
              apiVersion: 'v1',
              kind: 'ConfigMap',
              metadata: { name: cm },
              data: d,
            })),
          },
        },
      ],
      policies,
    },
  });
  /** An Application whose one component is the ConfigMap `object` (data `who: <name>`), sharing what `resourceTypes` selects. */
  const app = (name: string, resourceTypes: string[], object = 'config'): KubeObject =>
    configs(name, { [object]: { who: name } }, [
      { name: 'share', type: 'shared-resource', properties: { rules: [{ selector: { resourceTypes } }] } },
    ]);
  const configMap = (name: string) =>
    testCluster().kube.getOrNull<KubeObject & { data?: Record<string, string> }>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name,
      namespace: ns.name,
    });
  const config = () => configMap('config');
  /** Whether an object's `app.oam.dev/shared-by` names exactly these Applications of the namespace, in order. */
  const sharedBy =
    (...apps: string[]) =>
    (c: KubeObject) =>
      c.metadata.annotations?.['app.oam.dev/shared-by'] === apps.map((a) => `${ns.name}/${a}`).join(',');
  /** The ConfigMap `config` once `ok` holds for it. */
  const configOnce = (ok: (c: KubeObject & { data?: Record<string, string> }) => boolean, what: string) =>
    eventually(
      async () => {
        const c = await config();
        return !!c && ok(c) && c;
      },
      { what },
    );
  const application = (name: string) =>
    testCluster().kube.getOrNull<App>({
      apiVersion: 'core.oam.dev/v1beta1',
      kind: 'Application',
      name,
      namespace: ns.name,
    });
  const synced = (a: App | undefined) => a?.status?.conditions?.find((c) => c.type === 'Synced');

  it('a second Application shares a selected ConfigMap: not overwritten, both sharers; deleted with the last sharer', async () => {
    const { kube } = testCluster();
    await kube.apply(app('first', ['ConfigMap']), { fieldManager: 'test' });
    await eventually(async () => (await config())?.data?.who === 'first', { what: "first's ConfigMap" });
    await kube.apply(app('second', ['ConfigMap']), { fieldManager: 'test' });
    const [first, second] = await Promise.all([application('first'), application('second')]);
    const shared = await configOnce(sharedBy('first', 'second'), 'the ConfigMap shared by first and second');
    assert.equal(shared.data?.who, 'first', 'the second Application does not overwrite what the first created');
    assert.deepEqual(
      shared.metadata.ownerReferences?.map((r) => [r.name, r.uid, !!r.controller]),
      [
        ['first', first!.metadata.uid, true],
        ['second', second!.metadata.uid, false],
      ],
    );
    const running = await eventually(
      async () => {
        const a = await application('second');
        return a?.status?.status === 'running' && a;
      },
      { what: 'second running' },
    );
    assert.equal(synced(running)?.status, 'True', synced(running)?.message);

    await kube.delete({ apiVersion: 'core.oam.dev/v1beta1', kind: 'Application', name: 'first', namespace: ns.name });
    const kept = await eventually(
      async () => {
        const c = await config();
        return !(await application('first')) && c?.data?.who === 'second' && c;
      },
      { what: 'first deleted, the ConfigMap passed to second, which applies it' },
    );
    assert.equal(kept.metadata.annotations?.['app.oam.dev/shared-by'], `${ns.name}/second`, "first's name removed");
    assert.equal(kept.metadata.annotations?.['trellis.dev/owner'], `Application.core.oam.dev/${ns.name}/second`);
    assert.equal(kept.metadata.labels?.['app.oam.dev/name'], 'second');
    assert.deepEqual(
      kept.metadata.ownerReferences?.map((r) => [r.name, !!r.controller]),
      [['second', true]],
    );

    await kube.delete({ apiVersion: 'core.oam.dev/v1beta1', kind: 'Application', name: 'second', namespace: ns.name });
    await eventually(async () => !(await config()), {
      what: 'the ConfigMap deleted with its last sharer',
      timeoutMs: 90_000,
    });
  });

  it('a sharer that stops rendering the object lets go of it; a holder that stops hands it to the next sharer', async () => {
    const { kube } = testCluster();
    await kube.apply(app('first', ['ConfigMap']), { fieldManager: 'test' });
    await eventually(async () => (await config())?.data?.who === 'first', { what: "first's ConfigMap" });
    await kube.apply(app('second', ['ConfigMap']), { fieldManager: 'test' });
    await configOnce(sharedBy('first', 'second'), 'the ConfigMap shared by first and second');
    // second renders another ConfigMap instead.
    await kube.apply(app('second', ['ConfigMap'], 'other'), { fieldManager: 'test' });
    const released = await configOnce(sharedBy('first'), "second's name removed from shared-by");
    assert.deepEqual(
      released.metadata.ownerReferences?.map((r) => r.name),
      ['first'],
      "second's owner reference removed",
    );
    assert.equal(released.data?.who, 'first');

    await kube.apply(app('second', ['ConfigMap']), { fieldManager: 'test' });
    await configOnce(sharedBy('first', 'second'), 'second shares it again');
    await kube.apply(app('first', ['ConfigMap'], 'mine'), { fieldManager: 'test' });
    const handed = await configOnce(
      (c) => c.data?.who === 'second',
      'first stopped rendering it: second holds and applies it',
    );
    assert.equal(handed.metadata.annotations?.['app.oam.dev/shared-by'], `${ns.name}/second`);
    assert.deepEqual(
      handed.metadata.ownerReferences?.map((r) => [r.name, !!r.controller]),
      [['second', true]],
    );
    for (const name of ['first', 'second'])
      await kube.delete({ apiVersion: 'core.oam.dev/v1beta1', kind: 'Application', name, namespace: ns.name });
    await eventually(async () => !(await application('first')) && !(await application('second')), {
      what: 'both Applications deleted (finalizers done)',
    });
  });

  it('an object the selector does not pick, or that no Application made, stays an ownership conflict', async () => {
    const { kube } = testCluster();
    await kube.apply(app('first', ['ConfigMap']), { fieldManager: 'test' });
    await eventually(async () => (await config())?.data?.who === 'first', { what: "first's ConfigMap" });
    await kube.apply(app('other', ['Secret']), { fieldManager: 'test' });
    const refused = await eventually(
      async () => {
        const s = synced(await application('other'));
        return s?.status === 'False' && s;
      },
      { what: 'other reports the conflict' },
    );
    assert.match(
      refused.message ?? '',
      new RegExp(`\\[TRL_OWNERSHIP_CONFLICT\\] ConfigMap/${ns.name}/config: .*Application/${ns.name}/first`),
    );
    const c = await config();
    assert.equal(c?.data?.who, 'first');
    assert.equal(c?.metadata.annotations?.['app.oam.dev/shared-by'], undefined, 'not recorded as a sharer');
    assert.deepEqual(
      c?.metadata.ownerReferences?.map((r) => r.name),
      ['first'],
    );

    // Made by hand: the shared-resource policy does not reach what no Application made.
    const made = await kubectl(['create', 'configmap', 'handmade', '-n', ns.name, '--from-literal=who=me']);
    assert.equal(made.code, 0, made.stderr);
    await kube.apply(app('taker', ['ConfigMap'], 'handmade'), { fieldManager: 'test' });
    const handRefused = await eventually(
      async () => {
        const s = synced(await application('taker'));
        return s?.status === 'False' && s;
      },
      { what: 'taker reports the conflict' },
    );
    assert.match(handRefused.message ?? '', /\[TRL_OWNERSHIP_CONFLICT\] ConfigMap\/\S+\/handmade: .*made by hand/);
    const handmade = await kube.get<KubeObject & { data?: Record<string, string> }>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: 'handmade',
      namespace: ns.name,
    });
    assert.equal(handmade.data?.who, 'me');
    assert.equal(handmade.metadata.annotations?.['app.oam.dev/shared-by'], undefined);
  });

  it('garbage-collect rules: onAppUpdate deleted when no longer rendered, onAppDelete with the Application, never not at all', async () => {
    const { kube } = testCluster();
    const gc = [
      {
        name: 'gc',
        type: 'garbage-collect',
        properties: {
          rules: [
            { selector: { resourceNames: ['forever'] }, strategy: 'never' },
            { selector: { resourceNames: ['till-delete'] }, strategy: 'onAppDelete' },
          ],
        },
      },
    ];
    const all = { forever: { a: '1' }, 'till-delete': { a: '1' }, updated: { a: '1' }, stays: { a: '1' } };
    await kube.apply(configs('gc', all, gc), { fieldManager: 'test' });
    const forever = await eventually(async () => (await configMap('stays')) && (await configMap('forever')), {
      what: 'the ConfigMaps applied',
    });
    assert.deepEqual(forever.metadata.ownerReferences ?? [], [], 'never: not controlled by the Application');
    assert.equal((await configMap('till-delete'))?.metadata.ownerReferences?.[0]?.name, 'gc');

    await kube.apply(configs('gc', { stays: { a: '1' } }, gc), { fieldManager: 'test' });
    await eventually(async () => !(await configMap('updated')), { what: 'the onAppUpdate ConfigMap pruned' });
    assert.ok(await configMap('till-delete'), 'onAppDelete: kept while the Application lives');
    assert.ok(await configMap('forever'), 'never: kept');

    await kube.delete({ apiVersion: 'core.oam.dev/v1beta1', kind: 'Application', name: 'gc', namespace: ns.name });
    await eventually(async () => !(await configMap('till-delete')) && !(await configMap('stays')), {
      what: 'the onAppDelete ConfigMap deleted with the Application',
      timeoutMs: 90_000,
    });
    assert.equal((await configMap('forever'))?.data?.a, '1', 'never: still there after the Application is gone');
  });

  it('apply-once rules: the named field keeps a hand edit between updates (onStateKeep), an update applies it again', async () => {
    const { kube } = testCluster();
    const once = [
      {
        name: 'once',
        type: 'apply-once',
        properties: {
          enable: true,
          rules: [
            { selector: { resourceTypes: ['ConfigMap'] }, strategy: { path: ['data.who'], affect: 'onStateKeep' } },
          ],
        },
      },
    ];
    await kube.apply(configs('once', { drift: { who: 'v1', other: 'v1' } }, once), { fieldManager: 'test' });
    await eventually(async () => (await application('once'))?.status?.status === 'running', { what: 'once running' });
    const edited = await kubectl([
      'patch',
      'configmap',
      'drift',
      '-n',
      ns.name,
      '--type=merge',
      '-p',
      '{"data":{"who":"hand","other":"hand"}}',
    ]);
    assert.equal(edited.code, 0, edited.stderr);
    const restored = await eventually(
      async () => {
        const c = await configMap('drift');
        return c?.data?.other === 'v1' && c;
      },
      { what: 'the field no rule names put back' },
    );
    assert.equal(restored.data?.who, 'hand', 'the field the rule names keeps the hand edit');

    await kube.apply(configs('once', { drift: { who: 'v2', other: 'v1' } }, once), { fieldManager: 'test' });
    await eventually(async () => (await configMap('drift'))?.data?.who === 'v2', {
      what: 'an Application update applies the field again (affect onStateKeep)',
    });
  });
});
