import assert from 'node:assert/strict';
import type { FunctionSpec } from './config.js';
import {
  asRevision,
  newRevision,
  podSnapshot,
  revisionConfig,
  revisionName,
  revisionNumber,
  snapshotHash,
} from './revision.js';
import { changedFields, revisionsToDelete, type RevisionState } from './revisions.js';

const owner = { apiVersion: 'serverless.trellis.dev/v1alpha1', kind: 'Function' };
const fn = (spec: FunctionSpec, labels: Record<string, string> = {}) => ({
  apiVersion: 'serverless.trellis.dev/v1alpha1' as const,
  kind: 'Function' as const,
  metadata: { name: 'hello', namespace: 'shop', uid: 'u1', labels },
  spec,
});

describe('serverless: FunctionRevision', () => {
  it('is named as Knative names revisions, and numbers read back from names of this Function only', () => {
    assert.equal(revisionName('hello', 2), 'hello-00002');
    assert.equal(revisionName('hello', 123456), 'hello-123456');
    assert.equal(revisionNumber('hello', 'hello-00002'), 2);
    assert.equal(revisionNumber('hello', 'hello-world-00002'), undefined);
    assert.equal(revisionNumber('hello', 'hello-2'), undefined);
  });

  it('holds what reaches the pods, so a change of scaling, concurrency or traffic makes no new one', () => {
    const base = fn({ image: 'a:1', env: [{ name: 'X', value: '1' }] });
    const h = snapshotHash(podSnapshot(base.spec));
    assert.equal(
      snapshotHash(
        podSnapshot({
          ...base.spec,
          scale: { min: 2 },
          concurrency: { target: 5 },
          traffic: [{ latestRevision: true, percent: 100 }],
          revisionHistoryLimit: 1,
        }),
      ),
      h,
    );
    assert.equal(
      snapshotHash(podSnapshot({ ...base.spec, port: 8080, timeoutSeconds: 300 })),
      h,
      'a default written out is no change',
    );
    assert.notEqual(snapshotHash(podSnapshot({ ...base.spec, image: 'a:2' })), h);
    assert.notEqual(
      snapshotHash(podSnapshot({ ...base.spec, template: { metadata: { labels: { team: 'a' } } } })),
      h,
      'a trait patching the pods is a change',
    );
  });

  it("is controlled by its Function, carries its labels, and serves under its own key with the Function's current settings", () => {
    const f = fn({ image: 'a:1', port: 9000, scale: { min: 1 } }, { 'app.oam.dev/name': 'shop' });
    const rev = newRevision(f, 3, owner);
    assert.equal(rev.metadata.name, 'hello-00003');
    assert.deepEqual(rev.metadata.labels, {
      'app.oam.dev/name': 'shop',
      'serverless.trellis.dev/function': 'hello',
      'serverless.trellis.dev/revision': 'hello-00003',
    });
    assert.equal(rev.metadata.ownerReferences?.[0]?.uid, 'u1');
    assert.deepEqual(rev.spec, {
      function: 'hello',
      number: 3,
      port: 9000,
      timeoutSeconds: 300,
      env: [],
      image: 'a:1',
    });
    const later = fn({ image: 'a:2', port: 7000, scale: { min: 4 }, concurrency: { target: 3 } });
    const config = revisionConfig(later, rev);
    assert.equal(config.key, 'shop/hello-00003');
    assert.equal(config.function, 'hello');
    assert.equal(config.image, 'a:1', "the revision's pods");
    assert.equal(config.port, 9000);
    assert.equal(config.minScale, 4, "the Function's scaling now");
    assert.equal(config.target, 3);
    assert.equal(asRevision(later, rev).metadata.name, 'hello-00003');
  });

  it('says which fields changed between two revisions', () => {
    const a = newRevision(fn({ image: 'a:1' }), 1, owner);
    const b = newRevision(fn({ image: 'a:2', env: [{ name: 'X', value: '1' }] }), 2, owner);
    assert.deepEqual(changedFields(a, b), ['env', 'image']);
  });
});

describe('serverless: revisionsToDelete (bounded history)', () => {
  const state = (n: number, replicas: number | undefined): RevisionState => {
    const revision = newRevision(fn({ image: `a:${n}` }), n, owner);
    return {
      revision,
      name: revision.metadata.name!,
      number: n,
      ...(replicas === undefined
        ? {}
        : {
            deployment: {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              metadata: { name: revision.metadata.name! },
              spec: { replicas },
              status: { replicas },
            },
          }),
      everReady: true,
    };
  };

  it('keeps the serving ones and the newest idle ones, and deletes older idle ones only once they run no instance', () => {
    const states = [state(1, 0), state(2, 1), state(3, 0), state(4, 0), state(5, 0), state(6, 2)];
    const keep = new Set(['hello-00001', 'hello-00006']);
    const doomed = revisionsToDelete(states, keep, 2).map((s) => s.name);
    assert.deepEqual(
      doomed,
      ['hello-00003'],
      'hello-00005 and hello-00004 are the newest idle ones; hello-00002 still runs an instance; hello-00001 serves',
    );
    assert.deepEqual(
      revisionsToDelete(states, keep, 0).map((s) => s.name),
      ['hello-00005', 'hello-00004', 'hello-00003'],
    );
  });
});
