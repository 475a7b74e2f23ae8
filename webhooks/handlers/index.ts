import type { AdmissionHandler } from '../handler.js';
import type { WebhookDeps } from './deps.js';
import { mutateApplicationConfigurations } from './mutate-appconfig.js';
import { mutateComponents } from './mutate-component.js';
import { validateApplications } from './validate-application.js';
import { validateApplicationConfigurations } from './validate-appconfig.js';
import { validateComponents } from './validate-component.js';
import { validateDefinitions } from './validate-definition.js';

export type { WebhookDeps } from './deps.js';

/** Every webhook of configuration.ts' WEBHOOKS, sharing one set of dependencies. */
export function allHandlers(deps: WebhookDeps): AdmissionHandler[] {
  return [
    mutateComponents(deps),
    mutateApplicationConfigurations(deps),
    validateComponents(deps),
    validateApplicationConfigurations(deps),
    validateDefinitions(deps),
    validateApplications(deps),
  ];
}
