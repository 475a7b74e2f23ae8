import type { ApplicationConfiguration } from '../../apis/generated/core.oam.dev-v1alpha2.js';
import { describeRequestObject, type Admission, type AdmissionRequest } from '../admission.js';
import type { DefinitionLookup } from '../definition-lookup.js';
import type { AdmissionHandler } from '../handler.js';
import { Problems } from '../problems.js';
import { checkComponentReferences } from '../rules/component-reference.js';
import { checkDataDependencies } from '../rules/data-dependencies.js';
import { isShorthand } from './mutate-appconfig.js';

/**
 * `validate-applicationconfigurations`: each component entry sets exactly one of componentName and
 * revisionName; every dataInput names a declared dataOutput; every trait is a full object or names
 * an existing (CUE-templated) TraitDefinition.
 */
export function validateApplicationConfigurations(lookup: DefinitionLookup): AdmissionHandler {
  return {
    name: 'validate-applicationconfigurations',
    async handle(request: AdmissionRequest): Promise<Admission> {
      const appConfig = request.object as unknown as ApplicationConfiguration;
      const problems = new Problems(describeRequestObject(request));
      checkComponentReferences(appConfig.spec, problems);
      checkDataDependencies(appConfig.spec, problems);
      const traitChecks = (appConfig.spec?.components ?? []).flatMap((entry, i) => (entry.traits ?? []).map(async (t, j) => {
        const field = `spec.components[${i}].traits[${j}].trait`;
        const trait = t.trait as Record<string, unknown> | undefined;
        if (!trait) return problems.add('TRL_ADMISSION_TRAIT', field, 'is required');
        if (isShorthand(trait)) {
          const name = String(trait.name);
          const definition = await lookup.traitDefinition(name);
          if (!definition) problems.add('TRL_ADMISSION_DEFINITION_MISSING', `${field}.name`, `TraitDefinition "${name}" does not exist; apply it first`);
          else if (!definition.spec?.schematic) problems.add('TRL_ADMISSION_SHORTHAND', `${field}.name`, `was not expanded into the kind TraitDefinition "${name}" names; is the mutating webhook registered?`);
        } else if (typeof trait.apiVersion !== 'string' || typeof trait.kind !== 'string') {
          problems.add('TRL_ADMISSION_TRAIT', field, 'needs apiVersion and kind (a full object), or name (+ properties) naming a TraitDefinition');
        }
      }));
      await Promise.all(traitChecks);
      problems.throwIfAny();
      return {};
    },
  };
}
