import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { ApplicationConfiguration } from '../types.js';
import { registerApplicationInfo } from './metrics.js';

const app = (name: string, extra: Partial<ApplicationConfiguration> = {}): ApplicationConfiguration =>
  ({
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'ApplicationConfiguration',
    metadata: { name, namespace: 'shop' },
    spec: { components: [] },
    ...extra,
  }) as ApplicationConfiguration;

describe('controllers: trellis_application_info', () => {
  it('has one series per ApplicationConfiguration in the cache, with its conditions and suspension', async () => {
    const registry = new Registry();
    let apps = [
      app('web', {
        status: {
          conditions: [
            { type: 'Synced', status: 'True' },
            { type: 'Ready', status: 'False' },
          ],
        },
      } as Partial<ApplicationConfiguration>),
      app('batch', { metadata: { name: 'batch', namespace: 'shop', annotations: { 'trellis.dev/suspend': 'true' } } }),
    ];
    registerApplicationInfo(registry, { list: () => apps });
    const text = await registry.metrics();
    assert.match(
      text,
      /^trellis_application_info\{namespace="shop",name="web",synced="True",ready="False",suspended="false"\} 1$/m,
    );
    assert.match(
      text,
      /^trellis_application_info\{namespace="shop",name="batch",synced="Unknown",ready="Unknown",suspended="true"\} 1$/m,
    );
    apps = apps.slice(0, 1);
    assert.doesNotMatch(await registry.metrics(), /name="batch"/, 'a deleted application leaves no series behind');
  });
});
