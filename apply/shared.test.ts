import assert from 'node:assert/strict';
import type { KubeObject } from '../kube/types.js';
import { desiredObject } from './desired.js';
import { keepSharers, releasePatch, shareable, sharePatch, sharersOf } from './shared.js';

const app = (name: string, uid: string) => ({
  apiVersion: 'core.oam.dev/v1beta1',
  kind: 'Application',
  name,
  namespace: 'ns',
  uid,
});
const first = app('first', 'uid-1');
const second = app('second', 'uid-2');
const config: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'ns' } };
const made = {
  ...desiredObject(config, first, true),
  metadata: { ...desiredObject(config, first, true).metadata, resourceVersion: '7' },
};

describe('apply/shared: shared-resource', () => {
  it('an object another Application made is shareable; one made by hand, by another kind of owner, or its own is not', () => {
    assert.equal(shareable(made, second), true);
    assert.equal(shareable(made, first), false, 'its own');
    assert.equal(shareable(config, second), false, 'no owner mark: made by hand');
    const byAppConfig = desiredObject(
      config,
      { ...first, apiVersion: 'core.oam.dev/v1alpha2', kind: 'ApplicationConfiguration' },
      true,
    );
    assert.equal(shareable(byAppConfig, second), false, 'an ApplicationConfiguration does not share');
  });

  it('records the creator and the sharer (creator first) and a non-controller owner reference, conditional on resourceVersion', () => {
    const patch = sharePatch(made, second) as { metadata: KubeObject['metadata'] };
    assert.equal(patch.metadata.resourceVersion, '7');
    assert.equal(patch.metadata.annotations?.['app.oam.dev/shared-by'], 'ns/first,ns/second');
    assert.deepEqual(
      patch.metadata.ownerReferences?.map((r) => [r.uid, !!r.controller]),
      [
        ['uid-1', true],
        ['uid-2', false],
      ],
    );
    const shared = { ...made, metadata: { ...made.metadata, ...patch.metadata } };
    assert.deepEqual(sharersOf(shared), ['ns/first', 'ns/second']);
    assert.equal(sharePatch(shared, second), undefined, 'already a sharer: nothing to write');
    const third = sharePatch(shared, app('third', 'uid-3')) as { metadata: KubeObject['metadata'] };
    assert.equal(third.metadata.annotations?.['app.oam.dev/shared-by'], 'ns/first,ns/second,ns/third');
  });

  /** `made` shared by second (as sharePatch leaves it), labelled with its creator as KubeVela's objects are. */
  const sharedBySecond = (): KubeObject => {
    const patch = sharePatch(made, second) as { metadata: KubeObject['metadata'] };
    return {
      ...made,
      metadata: {
        ...made.metadata,
        ...patch.metadata,
        annotations: { ...made.metadata.annotations, ...patch.metadata.annotations },
        labels: { 'app.oam.dev/name': 'first', 'app.oam.dev/namespace': 'ns' },
      },
    };
  };
  /** `live` with a JSON patch's add/replace/remove ops applied (enough for releasePatch's paths). */
  const patched = (live: KubeObject, ops: object[]): KubeObject => {
    const out = structuredClone(live) as unknown as Record<string, unknown>;
    for (const { op, path, value } of ops as { op: string; path: string; value?: unknown }[]) {
      if (op === 'test') continue;
      const keys = path
        .split('/')
        .slice(1)
        .map((k) => k.replaceAll('~1', '/').replaceAll('~0', '~'));
      const last = keys.pop()!;
      const parent = keys.reduce((o, k) => o[k] as Record<string, unknown>, out);
      if (op === 'remove') delete parent[last];
      else parent[last] = value;
    }
    return out as unknown as KubeObject;
  };

  it('a sharer lets go: its name and owner reference leave the object, the holder keeps it', () => {
    const live = sharedBySecond();
    const ops = releasePatch(live, second)!;
    assert.deepEqual(ops[0], { op: 'test', path: '/metadata/resourceVersion', value: '7' });
    const after = patched(live, ops);
    assert.deepEqual(sharersOf(after), ['ns/first']);
    assert.deepEqual(
      after.metadata.ownerReferences?.map((r) => r.uid),
      ['uid-1'],
    );
    assert.equal(after.metadata.annotations?.['trellis.dev/owner'], 'Application.core.oam.dev/ns/first');
    assert.equal(releasePatch(after, second), undefined, 'no sharer any more: nothing to let go of');
  });

  it('the holder lets go: the next sharer holds it (mark, app.oam.dev/name); the last one lets nothing go', () => {
    const after = patched(sharedBySecond(), releasePatch(sharedBySecond(), first)!);
    assert.deepEqual(sharersOf(after), ['ns/second']);
    assert.equal(after.metadata.annotations?.['trellis.dev/owner'], 'Application.core.oam.dev/ns/second');
    assert.equal(after.metadata.labels?.['app.oam.dev/name'], 'second');
    assert.deepEqual(
      after.metadata.ownerReferences?.map((r) => r.uid),
      ['uid-2'],
    );
    assert.equal(releasePatch(after, second), undefined, 'the last sharer deletes it as its own');
    assert.equal(releasePatch(made, first), undefined, 'never shared: deleted as before');
    assert.equal(releasePatch(made, app('stranger', 'uid-9')), undefined, 'not a sharer: not its to touch');
  });

  it("the holder's apply keeps the sharers it does not render", () => {
    const live = sharedBySecond();
    const desired = desiredObject({ ...config, data: { a: '2' } }, first, true);
    const kept = keepSharers(desired, live);
    assert.equal(kept.metadata.annotations?.['app.oam.dev/shared-by'], 'ns/first,ns/second');
    assert.deepEqual(
      kept.metadata.ownerReferences?.map((r) => [r.uid, !!r.controller]),
      [
        ['uid-1', true],
        ['uid-2', false],
      ],
    );
    assert.equal(keepSharers(desired, made), desired, 'not shared: as rendered');
  });
});
