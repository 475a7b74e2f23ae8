import assert from 'node:assert/strict';
import { formatPlan } from './plan-format.js';
import { syncNameFor } from './local-inventory.js';

describe('gitops: formatPlan', () => {
  it('shows creates, updates with their field diff and prunes, and counts unchanged objects', () => {
    const lines = formatPlan(
      [
        {
          ref: { apiVersion: 'v1', kind: 'ConfigMap', name: 'new', namespace: 'ns' },
          action: 'create',
          changes: [
            { path: 'data.a', after: '1' },
            { path: 'data.b', after: '2' },
          ],
        },
        {
          ref: { apiVersion: 'v1', kind: 'ConfigMap', name: 'same', namespace: 'ns' },
          action: 'unchanged',
          changes: [],
        },
        {
          ref: { apiVersion: 'v1', kind: 'ConfigMap', name: 'web', namespace: 'ns' },
          action: 'update',
          changes: [{ path: 'data.v', before: '1', after: '2' }],
        },
        {
          ref: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'old' },
          action: 'prune',
          changes: [],
        },
      ],
      { maxCreateLines: 1 },
    );
    assert.deepEqual(lines, [
      '+ create ConfigMap/ns/new',
      '      + data.a: "1"',
      '      … 1 more fields',
      '~ update ConfigMap/ns/web',
      '      - data.v: "1"',
      '      + data.v: "2"',
      '- prune  ClusterRole/old',
      '1 to create, 1 to update, 1 to prune, 1 unchanged.',
    ]);
  });

  it('marks what someone else holds as refused, naming the holder, and counts it', () => {
    const refusal = { holder: 'ApplicationConfiguration/ns/shop', message: '[TRL_OWNERSHIP_CONFLICT] …' };
    const lines = formatPlan([
      {
        ref: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'ns' },
        action: 'refuse',
        changes: [],
        refusal,
      },
    ]);
    assert.deepEqual(lines, [
      '! refuse Deployment/ns/web: held by ApplicationConfiguration/ns/shop',
      "0 to create, 0 to update, 0 to prune, 0 unchanged, 1 refused (someone else's).",
    ]);
  });

  it('syncNameFor makes a DNS label from a folder or a repository URL', () => {
    assert.equal(syncNameFor('./deploy/Prod_EU/'), 'prod-eu');
    assert.equal(syncNameFor('https://git.example.com/org/apps.git'), 'apps');
    assert.equal(syncNameFor('/'), 'default');
  });
});
