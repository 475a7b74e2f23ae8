import type { DefinitionSource } from '../../definitions/index.js';
import type { ComponentSource } from '../../render/index.js';
import type { CueEngine, JsonSchema } from '../../cue/index.js';
import type { TemplateFactsCache } from '../template-facts.js';

/** What the handlers work with: the same definitions, components and CUE engine render/ uses. */
export interface WebhookDeps {
  /** Definitions and kinds (the cluster's, then the built-in catalog). */
  definitions: DefinitionSource;
  /** The Components of one namespace, for rendering AppConfigs. */
  components(namespace: string): ComponentSource;
  engine: CueEngine;
  /** The JSON Schema of a template's `parameter` (see parameter-schemas.ts: cached). */
  parameterSchema(template: string): Promise<JsonSchema>;
  /** What each template sets and accepts, to admit without CUE what that settles (template-facts.ts). */
  templateFacts: TemplateFactsCache;
  /** Names of the cluster's definitions, to suggest one for a misspelt type. @default none */
  definitionNames?(kind: 'component' | 'trait'): string[];
}
