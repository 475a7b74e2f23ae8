import assert from 'node:assert/strict';
import { silentLogger } from '../../lib/log.js';
import { UnservedWake, type Crd } from './unserved-wake.js';

const crd = (group: string, kind: string, established: boolean, versions = ['v1']): Crd => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${kind.toLowerCase()}s.${group}` },
  spec: { group, names: { kind }, versions: versions.map((name) => ({ name, served: true })) },
  status: { conditions: [{ type: 'Established', status: established ? 'True' : 'False' }] },
});

function setup() {
  const calls = { watch: 0, invalidated: [] as string[] };
  const crds: Crd[] = [];
  const wake = new UnservedWake({
    watch: async () => {
      calls.watch++;
    },
    crds: () => crds,
    invalidate: (v) => calls.invalidated.push(v),
    logger: silentLogger,
  });
  return { wake, calls, crds };
}

describe('appconfig: UnservedWake', () => {
  it('wakes exactly the AppConfigs waiting for a kind once a CRD serving it is established', () => {
    const { wake, calls } = setup();
    assert.equal(calls.watch, 0, 'no CRD watch while nothing waits');
    wake.waitFor({ namespace: 'a', name: 'one' }, [{ apiVersion: 'x.example.com/v1', kind: 'Foo' }]);
    wake.waitFor({ namespace: 'b', name: 'two' }, [{ apiVersion: 'x.example.com/v1', kind: 'Bar' }]);
    assert.equal(calls.watch, 1, 'the watch starts once, on the first wait');
    assert.deepEqual(wake.woken(crd('x.example.com', 'Foo', false)), [], 'not established yet');
    assert.deepEqual(wake.woken(crd('x.example.com', 'Foo', true)), [{ namespace: 'a', name: 'one' }]);
    assert.deepEqual(calls.invalidated, ['x.example.com/v1'], "discovery's answer for the group-version is dropped");
    assert.deepEqual(wake.woken(crd('y.example.com', 'Foo', true)), [], 'another group');
    assert.deepEqual(wake.woken(crd('x.example.com', 'Foo', true, ['v2'])), [], 'another version');
  });

  it('forgets an AppConfig that waits for nothing any more', () => {
    const { wake } = setup();
    const app = { namespace: 'a', name: 'one' };
    wake.waitFor(app, [{ apiVersion: 'x.example.com/v1', kind: 'Foo' }]);
    wake.waitFor(app, []);
    assert.deepEqual(wake.woken(crd('x.example.com', 'Foo', true)), []);
  });

  it('tells whether an established CRD serves a kind discovery did not list yet', () => {
    const { wake, crds } = setup();
    const foo = { apiVersion: 'x.example.com/v1', kind: 'Foo' };
    assert.equal(wake.established(foo), false);
    crds.push(crd('x.example.com', 'Foo', false));
    assert.equal(wake.established(foo), false);
    crds.push(crd('x.example.com', 'Foo', true));
    assert.equal(wake.established(foo), true);
  });
});
