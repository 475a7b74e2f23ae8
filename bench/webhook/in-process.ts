import type { ApplicationConfiguration, Component } from '../../apis/generated/core.oam.dev-v1alpha2.js';
import type { CueEngineOptions } from '../../cue/index.js';
import type { KubeClient } from '../../kube/index.js';
import { staticComponents } from '../../render/index.js';
import { checkAppConfigRenders } from '../../webhooks/render-check.js';
import { startWebhookDeps } from '../../webhooks/start-deps.js';
import { summarize, timeEach, type Summary } from './stats.js';
import { benchObjects, typicalAppConfig } from './typical.js';

/**
 * Where a validate review's time goes, in this process (no HTTPS, no API server in between): the
 * render check of an edited typical AppConfig (a property changed each time) with its Components
 * read live from the API server per review, from the webhook's watch caches (as it does), and
 * already in hand.
 */
export async function inProcessValidate(
  kube: KubeClient,
  options: { count: number; warmup: number; cue?: CueEngineOptions },
): Promise<{ live: Summary; cached: Summary; inHand: Summary }> {
  const deps = await startWebhookDeps(kube, options.cue ? { cue: options.cue } : {});
  try {
    const inHand = staticComponents(benchObjects.filter((o) => o.kind === 'Component') as unknown as Component[]);
    const check = (i: number, from: 'live' | 'cached' | 'inHand') => {
      const appConfig = typicalAppConfig('shop', 5000 + i) as unknown as ApplicationConfiguration;
      const namespace = appConfig.metadata.namespace!;
      const components =
        from === 'live' ? deps.liveComponents!(namespace) : from === 'cached' ? deps.components(namespace) : inHand;
      return checkAppConfigRenders({
        appConfig,
        components,
        definitions: deps.definitions,
        engine: deps.engine,
        facts: deps.templateFacts,
      });
    };
    const { warmup, count } = options;
    await timeEach(warmup, (i) => check(i, 'live'));
    return {
      live: summarize(await timeEach(count, (i) => check(warmup + i, 'live'))),
      cached: summarize(await timeEach(count, (i) => check(warmup + count + i, 'cached'))),
      inHand: summarize(await timeEach(count, (i) => check(warmup + 2 * count + i, 'inHand'))),
    };
  } finally {
    await deps.stop();
  }
}
