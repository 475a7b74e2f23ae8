import type { KubeClient } from '../kube/index.js';
import type { Logger } from '../lib/log.js';
import { CueEngine, type CueEngineOptions } from '../cue/index.js';
import { AdmissionComponentSource } from './component-source.js';
import { admissionDefinitions, AdmissionDefinitionSource } from './definition-source.js';
import type { WebhookDeps } from './handlers/deps.js';
import { cachedParameterSchemas } from './parameter-schemas.js';
import { cachedTemplateFacts } from './template-facts.js';

/**
 * Everything the handlers need, for one cluster: definitions and Components from watch caches (+ the
 * built-in catalog; a miss is read live), a CUE engine started now — not during the first review —
 * and cached parameter schemas. `stop()` ends the watches and the CUE workers.
 *
 * @example
 *   const deps = await startWebhookDeps(kube, { logger })
 *   const server = new WebhookServer({ handlers: allHandlers(deps), tls, port: 9443 })
 */
export async function startWebhookDeps(
  kube: KubeClient,
  options: { logger?: Logger; cue?: CueEngineOptions } = {},
): Promise<WebhookDeps & { stop(): Promise<void> }> {
  const cluster = new AdmissionDefinitionSource({ kube });
  const components = new AdmissionComponentSource({ kube });
  await Promise.all([cluster.start(), components.start()]);
  // The same choice of engine as `trellis render` (--cue-engine / TRELLIS_CUE_ENGINE), chosen and started now.
  const engine = new CueEngine({ ...options.cue, ...(options.logger ? { logger: options.logger } : {}) });
  try {
    await engine.check('warm: 1');
  } catch (err) {
    await engine.stop();
    await Promise.all([cluster.stop(), components.stop()]);
    throw err;
  }
  const parameterSchema = cachedParameterSchemas(engine);
  return {
    definitions: admissionDefinitions(cluster),
    cachedDefinitions: admissionDefinitions(cluster.cachedOnly()),
    components: (namespace) => components.of(namespace),
    liveComponents: (namespace) => components.live(namespace),
    engine,
    parameterSchema,
    templateFacts: cachedTemplateFacts(parameterSchema),
    definitionNames: (kind) => cluster.names(kind),
    async stop() {
      await engine.stop();
      await Promise.all([cluster.stop(), components.stop()]);
    },
  };
}
