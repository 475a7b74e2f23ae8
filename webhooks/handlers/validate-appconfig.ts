import type { ApplicationConfiguration } from '../../apis/generated/core.oam.dev-v1alpha2.js';
import { templateOf, type DefinitionSource } from '../../definitions/index.js';
import { isTrellisError } from '../../lib/errors.js';
import type { ComponentSource } from '../../render/index.js';
import { describeRequestObject, type Admission, type AdmissionRequest } from '../admission.js';
import type { AdmissionHandler } from '../handler.js';
import { Problems } from '../problems.js';
import { checkAppConfigRenders } from '../render-check.js';
import { checkComponentReferences } from '../rules/component-reference.js';
import { checkDataDependencies } from '../rules/data-dependencies.js';
import type { WebhookDeps } from './deps.js';
import { isShorthand } from './mutate-appconfig.js';

/**
 * `validate-applicationconfigurations`: first what needs no rendering, all problems at once — each
 * entry sets exactly one of componentName and revisionName, every dataInput names a declared
 * dataOutput, every trait is a full object or names an existing TraitDefinition; then the AppConfig
 * is rendered and bound as the controller will (render/ + bind/): properties against the templates'
 * parameters, appliesToWorkloads, conflictsWith, data-flow cycles. Components and definitions come
 * from watch caches (no API request); a denial is confirmed against the API server first.
 */
export function validateApplicationConfigurations(deps: WebhookDeps): AdmissionHandler {
  return {
    name: 'validate-applicationconfigurations',
    async handle(request: AdmissionRequest): Promise<Admission> {
      const appConfig = request.object as unknown as ApplicationConfiguration;
      const object = describeRequestObject(request);
      const problems = new Problems(object);
      checkComponentReferences(appConfig.spec, problems);
      checkDataDependencies(appConfig.spec, problems);
      await Promise.all(
        (appConfig.spec?.components ?? []).flatMap((entry, i) =>
          (entry.traits ?? []).map(async (t, j) => {
            const field = `spec.components[${i}].traits[${j}].trait`;
            const trait = t.trait as Record<string, unknown> | undefined;
            if (!trait) return problems.add('TRL_ADMISSION_TRAIT', field, 'is required');
            if (isShorthand(trait)) {
              const name = String(trait.name ?? trait.type);
              const definition = await deps.definitions.traitDefinition(name);
              if (!definition)
                problems.add(
                  'TRL_ADMISSION_DEFINITION_MISSING',
                  `${field}.name`,
                  `TraitDefinition "${name}" does not exist; apply it first`,
                );
              else if (templateOf(definition) === undefined)
                problems.add(
                  'TRL_ADMISSION_SHORTHAND',
                  `${field}.name`,
                  `was not expanded into the kind TraitDefinition "${name}" names; is the mutating webhook registered?`,
                );
            } else if (typeof trait.apiVersion !== 'string' || typeof trait.kind !== 'string') {
              problems.add(
                'TRL_ADMISSION_TRAIT',
                field,
                'needs apiVersion and kind (a full object), or name (+ properties) naming a TraitDefinition',
              );
            }
          }),
        ),
      );
      problems.throwIfAny();
      const namespace = request.namespace ?? appConfig.metadata.namespace ?? 'default';
      const named = {
        ...appConfig,
        metadata: { ...appConfig.metadata, name: appConfig.metadata.name ?? request.name ?? 'unnamed', namespace },
      };
      const check = (components: ComponentSource, definitions: DefinitionSource) =>
        checkAppConfigRenders({
          appConfig: named,
          components,
          definitions,
          engine: deps.engine,
          facts: deps.templateFacts,
        });
      let warnings: string[];
      try {
        warnings = await check(deps.components(namespace), deps.cachedDefinitions ?? deps.definitions);
      } catch (err) {
        // Components and definitions came from caches that may lag a change made a moment ago: deny
        // only what they deny as the API server has them.
        if (!isTrellisError(err) || !(deps.liveComponents || deps.cachedDefinitions)) throw err;
        warnings = await check(deps.liveComponents?.(namespace) ?? deps.components(namespace), deps.definitions);
      }
      return { warnings: warnings.map((w) => `${object}: ${w}`) };
    },
  };
}
