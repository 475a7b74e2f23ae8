import type { ApplicationConfiguration } from '../../apis/generated/core.oam.dev-v1alpha2.js';
import { LABEL_TRAIT_TYPE } from '../../apis/labels.js';
import { TrellisError } from '../../lib/errors.js';
import { describeRequestObject, type Admission, type AdmissionRequest } from '../admission.js';
import type { DefinitionLookup } from '../definition-lookup.js';
import type { AdmissionHandler } from '../handler.js';
import { diffPatch } from '../json-patch.js';
import { expandShorthand } from './shorthand.js';

/**
 * `mutate-applicationconfigurations`: a trait given as `name` + `properties` becomes the object the
 * TraitDefinition names — its apiVersion and kind, `properties` as `spec`, and the label
 * `trait.oam.dev/type` (upstream's). Traits of CUE-templated definitions keep the shorthand. A missing
 * TraitDefinition is denied.
 *
 * @example
 *   traits: [{ trait: { name: footrait, properties: { key: trait } } }]
 *   // → traits: [{ trait: { apiVersion: example.com/v1, kind: Foo,
 *   //                       metadata: { labels: { trait.oam.dev/type: footrait } }, spec: { key: trait } } }]
 */
export function mutateApplicationConfigurations(lookup: DefinitionLookup): AdmissionHandler {
  return {
    name: 'mutate-applicationconfigurations',
    async handle(request: AdmissionRequest): Promise<Admission> {
      const appConfig = request.object as unknown as ApplicationConfiguration;
      const object = describeRequestObject(request);
      let changed = false;
      const components = await Promise.all((appConfig.spec?.components ?? []).map(async (entry, i) => {
        if (!entry.traits?.some((t) => isShorthand(t.trait))) return entry;
        const traits = await Promise.all(entry.traits.map(async (t, j) => {
          if (!isShorthand(t.trait)) return t;
          const field = `spec.components[${i}].traits[${j}].trait`;
          const name = t.trait.name;
          if (typeof name !== 'string' || !name) {
            throw new TrellisError('TRL_ADMISSION_SHORTHAND', `must be the name of a TraitDefinition, got ${JSON.stringify(name)}`, { object, field: `${field}.name` });
          }
          const definition = await lookup.traitDefinition(name);
          if (!definition) {
            throw new TrellisError('TRL_ADMISSION_DEFINITION_MISSING', `TraitDefinition "${name}" does not exist; apply it first (\`kubectl get traitdefinitions\` lists the traits there are)`, { object, field: `${field}.name` });
          }
          const trait = await expandShorthand({ shorthand: t.trait, typeField: 'name', typeLabel: LABEL_TRAIT_TYPE, definition: { kind: 'TraitDefinition', name, spec: definition.spec }, lookup, object, field });
          if (trait !== t.trait) changed = true;
          return { ...t, trait };
        }));
        return { ...entry, traits };
      }));
      if (!changed) return {};
      return { patch: diffPatch(appConfig, { ...appConfig, spec: { ...appConfig.spec, components } }) };
    },
  };
}

/** A trait written as `name` (+ `properties`) rather than a full object with apiVersion and kind. */
export function isShorthand(trait: unknown): trait is Record<string, unknown> & { name: unknown } {
  return !!trait && typeof trait === 'object' && 'name' in trait && !('kind' in trait && 'apiVersion' in trait);
}
