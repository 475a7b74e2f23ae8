import assert from 'node:assert/strict';
import type { AuditEvent } from '../../controlplane/index.js';
import { ExclusivityChecker } from './shards.js';

/** One audit event of a write to the Deployment `ns/web` (or its status), `by` a replica or kube-controller-manager. */
const write = (by: string, received: string, answered: string, code: number, subresource?: string): AuditEvent => ({
  verb: by === 'kcm' ? 'update' : 'patch',
  requestURI: '/apis/apps/v1/namespaces/ns/deployments/web',
  user: { username: by === 'kcm' ? 'admin' : 'system:serviceaccount:trellis-system:trellis' },
  userAgent: by === 'kcm' ? 'kube-controller-manager/v1.36.3' : `trellis-controller/${by}`,
  objectRef: {
    apiGroup: 'apps',
    resource: 'deployments',
    namespace: 'ns',
    name: 'web',
    ...(subresource ? { subresource } : {}),
  },
  responseStatus: { code },
  requestReceivedTimestamp: `2026-12-07T03:17:${received}Z`,
  stageTimestamp: `2026-12-07T03:17:${answered}Z`,
});

describe('test support: ExclusivityChecker conflicts between replicas', () => {
  const checker = () => new ExclusivityChecker({ group: 'g', shards: 1, shardOf: () => undefined });

  it('counts a 409 whose object another replica wrote last', () => {
    const c = checker();
    c.add([write('r1', '30.000', '30.100', 200), write('r2', '39.793', '39.892', 409)]);
    assert.equal(c.report().conflicts.length, 1);
    assert.match(c.report().conflicts[0]!, /by r2 .* \(last written by r1\)/);
  });

  it("does not count one that kube-controller-manager's write, arrived before the 409 was answered, explains — even when that write completed after it", () => {
    // bench:shards, kill 9: the replica's apply was refused 2 ms before kube-controller-manager's status update completed.
    const c = checker();
    c.add([
      write('r1', '30.000', '30.100', 200),
      write('r2', '39.793', '39.892', 409),
      write('kcm', '39.451', '39.894', 200, 'status'),
    ]);
    assert.deepEqual(c.report().conflicts, []);
  });

  it('still counts one when the other write arrived only after the 409 was answered', () => {
    const c = checker();
    c.add([write('r1', '30.000', '30.100', 200), write('r2', '39.793', '39.892', 409)]);
    c.add([write('kcm', '39.950', '40.010', 200, 'status')]);
    assert.equal(c.report().conflicts.length, 1);
  });
});
