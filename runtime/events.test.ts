import assert from 'node:assert/strict';
import type { KubeClient, KubeObject } from '../kube/index.js';
import { EventRecorder } from './events.js';

/** What the recorder sent: `create <reason>` for a new Event, `series <count>` for a repeat. */
function recording(): { kube: KubeClient; sent: string[] } {
  const sent: string[] = [];
  const kube = {
    create: async (body: KubeObject & { reason?: string }) => {
      sent.push(`create ${body.reason}`);
      return body;
    },
    patch: async (_ref: unknown, patch: { series: { count: number } }) => {
      sent.push(`series ${patch.series.count}`);
      return {};
    },
  } as unknown as KubeClient;
  return { kube, sent };
}

const app = (name: string): KubeObject => ({
  apiVersion: 'core.oam.dev/v1alpha2',
  kind: 'ApplicationConfiguration',
  metadata: { name, namespace: 'shop', uid: `uid-${name}` },
});

describe('runtime: EventRecorder series (bounded)', () => {
  it('counts a repeat in its series, and forgets the oldest series beyond maxSeries', async () => {
    const { kube, sent } = recording();
    const recorder = new EventRecorder({ kube, controller: 'trellis.dev/test', instance: 'test', maxSeries: 10 });
    for (let i = 0; i < 11; i++) recorder.event(app(`app-${i}`), 'Normal', `Applied${i}`, 'Apply', 'updated');
    await recorder.flush();
    assert.equal(sent.length, 11);
    // Over 10: the oldest forgotten down to 9 (app-0 and app-1 gone), the newest kept.
    recorder.event(app('app-10'), 'Normal', 'Applied10', 'Apply', 'updated');
    recorder.event(app('app-2'), 'Normal', 'Applied2', 'Apply', 'updated');
    recorder.event(app('app-0'), 'Normal', 'Applied0', 'Apply', 'updated');
    await recorder.flush();
    assert.deepEqual(sent.slice(11), ['series 2', 'series 2', 'create Applied0']);
  });

  it('starts a new series once the window is over', async () => {
    const { kube, sent } = recording();
    const recorder = new EventRecorder({ kube, controller: 'trellis.dev/test', instance: 'test', seriesWindowMs: 0 });
    recorder.event(app('web'), 'Warning', 'RenderFailed', 'Render', 'bad');
    recorder.event(app('web'), 'Warning', 'RenderFailed', 'Render', 'bad');
    await recorder.flush();
    assert.deepEqual(sent, ['create RenderFailed', 'create RenderFailed']);
  });
});
