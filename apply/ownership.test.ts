import assert from 'node:assert/strict';
import type { KubeObject } from '../kube/types.js';
import { desiredObject } from './desired.js';
import {
  adoptionNames,
  handManagers,
  judge,
  judgeForPerson,
  takeOverFields,
  type ManagedFieldsEntry,
} from './ownership.js';

const a2 = {
  apiVersion: 'core.oam.dev/v1alpha2',
  kind: 'ApplicationConfiguration',
  name: 'a2',
  namespace: 'ns',
  uid: 'uid-a2',
};
const deployment = (metadata: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'ns', ...metadata },
  spec: {},
});
const desired = desiredObject(deployment(), a2, true);
const entry = (manager: string, extra: Partial<ManagedFieldsEntry> = {}): ManagedFieldsEntry => ({
  manager,
  operation: 'Update',
  apiVersion: 'apps/v1',
  fieldsType: 'FieldsV1',
  fieldsV1: {},
  ...extra,
});

describe('apply: ownership', () => {
  it('an absent object may be created; one carrying this owner as controller (or its mark alone) is its own', () => {
    assert.equal(judge(undefined, desired, a2).state, 'absent');
    assert.equal(judge(desired, desired, a2).state, 'ours');
    assert.equal(
      judge(
        deployment({ annotations: { 'trellis.dev/owner': 'ApplicationConfiguration.core.oam.dev/ns/a2' } }),
        desired,
        a2,
      ).state,
      'ours',
    );
    assert.equal(
      judge(
        deployment({
          ownerReferences: [{ apiVersion: a2.apiVersion, kind: a2.kind, name: 'a2', uid: 'uid-a2', controller: true }],
        }),
        desired,
        a2,
      ).state,
      'ours',
    );
  });

  it("refuses another AppConfig's object, naming it as the holder", () => {
    const held = deployment({
      annotations: { 'trellis.dev/owner': 'ApplicationConfiguration.core.oam.dev/ns/a1' },
      ownerReferences: [{ apiVersion: a2.apiVersion, kind: a2.kind, name: 'a1', uid: 'uid-a1', controller: true }],
    });
    const v = judge(held, desired, a2);
    assert.equal(v.state, 'held');
    if (v.state !== 'held') return;
    assert.equal(v.refusal.holder, 'ApplicationConfiguration/ns/a1');
    assert.equal(
      v.refusal.message,
      '[TRL_OWNERSHIP_CONFLICT] Deployment/ns/web: exists and is not controlled by ApplicationConfiguration/ns/a2 (UID "uid-a2"): it is controlled by ApplicationConfiguration/ns/a1; it passes to ApplicationConfiguration/ns/a2 once ApplicationConfiguration/ns/a1 lets go of it (deleted, or no longer rendering it)',
    );
  });

  it('refuses an object of an earlier owner of the same name (another uid) until it is collected', () => {
    const old = deployment({
      annotations: { 'trellis.dev/owner': 'ApplicationConfiguration.core.oam.dev/ns/a2' },
      ownerReferences: [{ apiVersion: a2.apiVersion, kind: a2.kind, name: 'a2', uid: 'uid-old', controller: true }],
    });
    const v = judge(old, desired, a2);
    assert.equal(v.state, 'held');
    assert.match(
      v.state === 'held' ? v.refusal.message : '',
      /controlled by an earlier ApplicationConfiguration\/ns\/a2 \(UID "uid-old"\), which is being deleted/,
    );
  });

  it("refuses another owner's mark (a GitSync's object) and any other controller", () => {
    const gitops = judge(
      deployment({ annotations: { 'trellis.dev/owner': 'GitSync.gitops.trellis.dev/ns/repo' } }),
      desired,
      a2,
    );
    assert.equal(gitops.state === 'held' && gitops.refusal.holder, 'GitSync/ns/repo');
    const rs = judge(
      deployment({
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid: 'u', controller: true }],
      }),
      desired,
      a2,
    );
    assert.equal(rs.state === 'held' && rs.refusal.holder, 'ReplicaSet/ns/x');
  });

  it('refuses an object made by hand, naming its field manager and the command that lets this owner adopt it', () => {
    const hand = deployment({
      managedFields: [
        entry('kubectl-create'),
        entry('kube-controller-manager', { subresource: 'status' }),
        entry('kube-controller-manager'),
      ],
    });
    const v = judge(hand, desired, a2);
    assert.equal(v.state, 'held');
    if (v.state !== 'held') return;
    assert.equal(v.refusal.holder, 'made by hand (field manager "kubectl-create")');
    assert.match(
      v.refusal.message,
      /it was made by hand \(field manager "kubectl-create"\); delete it or give it another name, or let ApplicationConfiguration\/ns\/a2 adopt it: kubectl annotate deployment web -n ns trellis\.dev\/adopt=ApplicationConfiguration\/a2$/,
    );
  });

  it('names the field managers of an object made by hand sorted by name, whatever order managedFields holds', () => {
    const hand = (order: string[]) => judge(deployment({ managedFields: order.map((m) => entry(m)) }), desired, a2);
    const held = [hand(['kubectl-create', 'kubectl-annotate']), hand(['kubectl-annotate', 'kubectl-create'])];
    const expected = 'made by hand (field managers "kubectl-annotate", "kubectl-create")';
    for (const v of held) assert.equal(v.state === 'held' && v.refusal.holder, expected);
  });

  it('an object made by hand and annotated for this owner is adoptable; for another owner it is not', () => {
    const mine = judge(
      deployment({
        annotations: { 'trellis.dev/adopt': 'ApplicationConfiguration/a2' },
        managedFields: [entry('kubectl-create')],
      }),
      desired,
      a2,
    );
    assert.deepEqual(mine, {
      state: 'adoptable',
      from: 'made by hand (field manager "kubectl-create")',
      managers: ['kubectl-create'],
    });
    assert.equal(
      judge(deployment({ annotations: { 'trellis.dev/adopt': 'ApplicationConfiguration/other' } }), desired, a2).state,
      'held',
    );
    // Adoption never takes an object another owner or controller holds.
    assert.equal(
      judge(
        deployment({
          annotations: {
            'trellis.dev/adopt': 'ApplicationConfiguration/a2',
            'trellis.dev/owner': 'GitSync.gitops.trellis.dev/ns/repo',
          },
        }),
        desired,
        a2,
      ).state,
      'held',
    );
  });

  it('adoptionNames() takes the full mark, or Kind/name in the same namespace (kind case-insensitive)', () => {
    assert.equal(adoptionNames('ApplicationConfiguration.core.oam.dev/ns/a2', a2, 'ns'), true);
    assert.equal(adoptionNames('applicationconfiguration/a2', a2, 'ns'), true);
    assert.equal(adoptionNames('ApplicationConfiguration/a2', a2, 'other'), false);
    assert.equal(adoptionNames('ApplicationConfiguration/a2/x', a2, 'ns'), false);
    assert.equal(adoptionNames(undefined, a2, 'ns'), false);
  });

  it('handManagers() leaves out Kubernetes components and subresources, unless nobody else wrote it', () => {
    assert.deepEqual(
      handManagers(
        deployment({
          managedFields: [
            entry('kubectl-create'),
            entry('kube-controller-manager'),
            entry('kubectl-edit', { subresource: 'scale' }),
          ],
        }),
      ),
      ['kubectl-create'],
    );
    assert.deepEqual(handManagers(deployment({ managedFields: [entry('kube-controller-manager')] })), [
      'kube-controller-manager',
    ]);
  });

  it('a person (`trellis apply`) may change what was made by hand, but not what an owner or a controller holds', () => {
    assert.equal(judgeForPerson(deployment({ managedFields: [entry('kubectl-create')] })).state, 'ours');
    const v = judgeForPerson(desired);
    assert.equal(v.state, 'held');
    assert.match(
      v.state === 'held' ? v.refusal.message : '',
      /^\[TRL_OWNERSHIP_CONFLICT\] Deployment\/ns\/web: is controlled by ApplicationConfiguration\/ns\/a2/,
    );
  });

  it('takeOverFields() merges the taken entries into one Apply entry of the owner and keeps the rest', () => {
    const entries = [
      entry('kubectl-create', {
        fieldsV1: {
          'f:spec': {
            'f:replicas': {},
            'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"busybox"}': { '.': {}, 'f:image': {} } } } },
          },
        },
      }),
      entry('kubectl-annotate', { fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:x': {} } } } }),
      entry('kube-controller-manager', { subresource: 'status', fieldsV1: { 'f:status': {} } }),
      entry('trellis', {
        operation: 'Apply',
        fieldsV1: {
          'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"main"}': { '.': {} } } } } },
        },
      }),
    ];
    const out = takeOverFields(entries, (e) => e.manager!.startsWith('kubectl'), 'trellis', 'apps/v1', 'now')!;
    assert.deepEqual(
      out.map((e) => `${e.manager}/${e.operation}`),
      ['trellis/Apply', 'kube-controller-manager/Update'],
    );
    assert.deepEqual(out[0]!.fieldsV1, {
      'f:spec': {
        'f:template': {
          'f:spec': {
            'f:containers': { 'k:{"name":"main"}': { '.': {} }, 'k:{"name":"busybox"}': { '.': {}, 'f:image': {} } },
          },
        },
        'f:replicas': {},
      },
      'f:metadata': { 'f:annotations': { 'f:x': {} } },
    });
    assert.equal(
      takeOverFields(entries, () => false, 'trellis', 'apps/v1', 'now'),
      undefined,
      'nothing to take',
    );
  });
});
