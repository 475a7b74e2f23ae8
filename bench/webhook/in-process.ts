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
 * read live from the API server per review, as the webhook does, and with them already in hand.
 */
export async function inProcessValidate(
  kube: KubeClient,
  options: { count: number; warmup: number; cue?: CueEngineOptions },
): Promise<{ live: Summary; inHand: Summary }> {
  const deps = await startWebhookDeps(kube, options.cue ? { cue: options.cue } : {});
  try {
    const inHand = staticComponents(benchObjects.filter((o) => o.kind === 'Component') as unknown as Component[]);
    const check = (i: number, live: boolean) => {
      const appConfig = typicalAppConfig('shop', 5000 + i) as unknown as ApplicationConfiguration;
      const components = live ? deps.components(appConfig.metadata.namespace!) : inHand;
      return checkAppConfigRenders({
        appConfig,
        components,
        definitions: deps.definitions,
        engine: deps.engine,
        facts: deps.templateFacts,
      });
    };
    await timeEach(options.warmup, (i) => check(i, true));
    return {
      live: summarize(await timeEach(options.count, (i) => check(options.warmup + i, true))),
      inHand: summarize(await timeEach(options.count, (i) => check(options.warmup + options.count + i, false))),
    };
  } finally {
    await deps.stop();
  }
}
