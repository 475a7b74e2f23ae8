import type { DefinitionLookup } from '../definition-lookup.js';
import type { AdmissionHandler } from '../handler.js';
import { mutateApplicationConfigurations } from './mutate-appconfig.js';
import { mutateComponents } from './mutate-component.js';
import { validateApplicationConfigurations } from './validate-appconfig.js';
import { validateComponents } from './validate-component.js';
import { validateDefinitions } from './validate-definition.js';

/** Every webhook of configuration.ts' WEBHOOKS, wired to one definition lookup. */
export function allHandlers(lookup: DefinitionLookup): AdmissionHandler[] {
  return [
    mutateComponents(lookup),
    mutateApplicationConfigurations(lookup),
    validateComponents(lookup),
    validateApplicationConfigurations(lookup),
    validateDefinitions(lookup),
  ];
}
