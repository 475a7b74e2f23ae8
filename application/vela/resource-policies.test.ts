import assert from 'node:assert/strict';
import type { Application } from '../../apis/generated/core.oam.dev-v1beta1.js';
import type { KubeObject } from '../../kube/types.js';
import { policyEffects } from './policies.js';
import { applyOnce, gcStrategy } from './resource-policies.js';

const deployment = (replicas: number, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    labels: { 'app.oam.dev/component': 'web', 'app.oam.dev/resourceType': 'WORKLOAD' },
    annotations: { team: 'a' },
  },
  spec: { replicas, template: { spec: { containers: [{ name: 'web', image: 'nginx:1' }] } }, ...extra },
});
const app = (policies: unknown[]): Application =>
  ({
    apiVersion: 'core.oam.dev/v1beta1',
    kind: 'Application',
    metadata: { name: 'shop', namespace: 'ns' },
    spec: { components: [], policies },
  }) as unknown as Application;
const refused = (policies: unknown[], field: RegExp) =>
  assert.throws(
    () => policyEffects(app(policies)),
    (err: Error & { code?: string; field?: string }) => {
      assert.equal(err.code, 'TRL_APP_POLICY');
      assert.match(err.message, field);
      return true;
    },
  );

describe('application/vela/resource-policies: garbage-collect and apply-once rules', () => {
  it('garbage-collect: the first rule picking an object gives its strategy, onAppUpdate otherwise', () => {
    const { gcRules } = policyEffects(
      app([
        {
          name: 'gc',
          type: 'garbage-collect',
          properties: {
            rules: [
              { selector: { resourceNames: ['web'] }, strategy: 'never' },
              { selector: { resourceTypes: ['Deployment', 'ConfigMap'] }, strategy: 'onAppDelete' },
              { selector: { resourceTypes: ['Secret'] } },
            ],
          },
        },
      ]),
    );
    assert.equal(gcStrategy(gcRules, deployment(1)), 'never');
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } };
    assert.equal(gcStrategy(gcRules, cm), 'onAppDelete');
    assert.equal(gcStrategy(gcRules, { ...cm, kind: 'Secret' }), 'onAppUpdate', 'strategy defaults to onAppUpdate');
    assert.equal(gcStrategy(gcRules, { ...cm, kind: 'Service' }), 'onAppUpdate');
  });

  it('refuses a strategy, affect or path KubeVela does not define, naming the field', () => {
    const gc = (rules: unknown) => [{ name: 'gc', type: 'garbage-collect', properties: { rules } }];
    refused(
      gc([{ selector: {}, strategy: 'sometimes' }]),
      /rules\[0\]\.strategy.*"sometimes" is not one of onAppUpdate/,
    );
    refused(gc('all'), /must be a list of rules/);
    const once = (rules: unknown) => [{ name: 'once', type: 'apply-once', properties: { enable: true, rules } }];
    refused(
      once([{ selector: {}, strategy: { path: ['spec.replicas'], affect: 'weekly' } }]),
      /"weekly" is not one of/,
    );
    refused(once([{ selector: {}, strategy: { path: ['spec[.x'] } }]), /path\[0\].*is not a field path/);
    refused(once([{ selector: {}, path: ['spec.replicas'] }]), /strategy\.path/);
    refused(once([{ selector: {} }]), /rules\[0\]\.strategy.*is required/);
  });

  it('apply-once: enabled without rules is every object; with rules only the paths; disabled nothing', () => {
    const rules = [{ selector: { resourceTypes: ['Deployment'] }, strategy: { path: ['spec.replicas'] } }];
    const whole = policyEffects(app([{ name: 'o', type: 'apply-once', properties: { enable: true } }]));
    assert.equal(whole.applyOnce, true);
    assert.deepEqual(whole.applyOnceRules, []);
    const some = policyEffects(app([{ name: 'o', type: 'apply-once', properties: { enable: true, rules } }]));
    assert.equal(some.applyOnce, false);
    assert.equal(some.applyOnceRules.length, 1);
    const off = policyEffects(app([{ name: 'o', type: 'apply-once', properties: { enable: false, rules } }]));
    assert.equal(off.applyOnce, false);
    assert.deepEqual(off.applyOnceRules, []);
  });

  it('apply-once rule: the live values at its paths are applied, per affect and stage; * keeps the object', () => {
    const effects = (strategy: unknown) =>
      policyEffects(
        app([
          {
            name: 'o',
            type: 'apply-once',
            properties: { enable: true, rules: [{ selector: { resourceTypes: ['Deployment'] }, strategy }] },
          },
        ]),
      ).applyOnceRules;
    const live = deployment(5, { paused: true });
    live.metadata.annotations = {};
    const paths = ['spec.replicas', 'metadata.annotations[team]', 'spec.paused'];
    const always = applyOnce(effects({ path: paths }), deployment(2), live, 'onUpdate');
    assert.equal(always.keep, false);
    assert.equal((always.object.spec as { replicas: number }).replicas, 5, 'the live replicas stand');
    assert.equal((always.object.spec as { paused?: boolean }).paused, true);
    assert.deepEqual(always.object.metadata.annotations, {}, 'a field removed by hand stays removed');
    assert.equal(
      (applyOnce(effects({ path: paths }), deployment(2), undefined, 'onUpdate').object.spec as { replicas: number })
        .replicas,
      2,
      'the first apply applies what was rendered',
    );
    const onKeep = effects({ path: ['spec.replicas'], affect: 'onStateKeep' });
    assert.equal((applyOnce(onKeep, deployment(2), live, 'onUpdate').object.spec as { replicas: number }).replicas, 2);
    assert.equal(
      (applyOnce(onKeep, deployment(2), live, 'onStateKeep').object.spec as { replicas: number }).replicas,
      5,
    );
    const onUpdate = effects({ path: ['spec.replicas'], affect: 'onUpdate' });
    assert.equal(
      (applyOnce(onUpdate, deployment(2), live, 'onStateKeep').object.spec as { replicas: number }).replicas,
      2,
    );
    assert.equal(applyOnce(effects({ path: ['*'] }), deployment(2), live, 'onStateKeep').keep, true);
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } };
    assert.equal(applyOnce(effects({ path: ['*'] }), cm, cm, 'onStateKeep').keep, false, 'not picked');
  });
});
