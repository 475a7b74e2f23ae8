import type { DefinitionSource } from '../../definitions/index.js';
import type { ComponentSource } from '../../render/index.js';
import type { CueEngine, JsonSchema } from '../../cue/index.js';
import type { TemplateFactsCache } from '../template-facts.js';

/** What the handlers work with: the same definitions, components and CUE engine render/ uses. */
export interface WebhookDeps {
  /** Definitions and kinds (the cluster's, then the built-in catalog); a definition not in a watch cache is read live. */
  definitions: DefinitionSource;
  /**
   * The same from the watch caches alone (a miss is a miss): an AppConfig is checked against these
   * and {@link components} first, and a denial is confirmed with `definitions` and {@link liveComponents}.
   * @default `definitions`
   */
  cachedDefinitions?: DefinitionSource;
  /** The Components of one namespace, for rendering AppConfigs (from watch caches; a miss is read live). */
  components(namespace: string): ComponentSource;
  /**
   * The same, read from the API server past any cache: an AppConfig denied on {@link components} is
   * checked again with these (a Component changed a moment ago may still be the old one in a cache).
   * @default none (`components` is read live)
   */
  liveComponents?(namespace: string): ComponentSource;
  engine: CueEngine;
  /** The JSON Schema of a template's `parameter` (see parameter-schemas.ts: cached). */
  parameterSchema(template: string): Promise<JsonSchema>;
  /** What each template sets and accepts, to admit without CUE what that settles (template-facts.ts). */
  templateFacts: TemplateFactsCache;
  /** Names of the cluster's definitions, to suggest one for a misspelt type. @default none */
  definitionNames?(kind: 'component' | 'trait'): string[];
}
