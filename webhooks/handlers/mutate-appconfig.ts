import type { ApplicationConfiguration } from '../../apis/generated/core.oam.dev-v1alpha2.js';
import { LABEL_TRAIT_TYPE } from '../../apis/labels.js';
import { TrellisError } from '../../lib/errors.js';
import { resolveTrait } from '../../render/index.js';
import { describeRequestObject, type Admission, type AdmissionRequest } from '../admission.js';
import type { AdmissionHandler } from '../handler.js';
import { diffPatch } from '../json-patch.js';
import type { WebhookDeps } from './deps.js';
import { expandResolved } from './expand.js';
import { jsonEqual } from '../../lib/equal.js';

/**
 * `mutate-applicationconfigurations`: a trait given as `name` + `properties` is resolved as render/
 * resolves it. A definitionRef trait becomes the object its TraitDefinition names — apiVersion, kind,
 * `properties` as `spec`, label `trait.oam.dev/type` (upstream's); a CUE-templated trait keeps the
 * shorthand with the template's parameter defaults filled in. A missing TraitDefinition is denied.
 *
 * @example
 *   traits: [{ trait: { name: footrait, properties: { key: trait } } }]
 *   // → traits: [{ trait: { apiVersion: example.com/v1, kind: Foo,
 *   //                       metadata: { labels: { trait.oam.dev/type: footrait } }, spec: { key: trait } } }]
 */
export function mutateApplicationConfigurations(deps: WebhookDeps): AdmissionHandler {
  return {
    name: 'mutate-applicationconfigurations',
    async handle(request: AdmissionRequest): Promise<Admission> {
      const appConfig = request.object as unknown as ApplicationConfiguration;
      const object = describeRequestObject(request);
      let changed = false;
      const components = await Promise.all(
        (appConfig.spec?.components ?? []).map(async (entry, i) => {
          if (!entry.traits?.some((t) => isShorthand(t.trait))) return entry;
          const traits = await Promise.all(
            entry.traits.map(async (t, j) => {
              if (!isShorthand(t.trait)) return t;
              const field = `spec.components[${i}].traits[${j}].trait`;
              const name = t.trait.name ?? t.trait.type;
              if (typeof name !== 'string' || !name) {
                throw new TrellisError(
                  'TRL_ADMISSION_SHORTHAND',
                  `must be the name of a TraitDefinition, got ${JSON.stringify(name)}`,
                  { object, field: `${field}.name` },
                );
              }
              if (!(await deps.definitions.traitDefinition(name))) {
                throw new TrellisError(
                  'TRL_ADMISSION_DEFINITION_MISSING',
                  `TraitDefinition "${name}" does not exist; apply it first (\`kubectl get traitdefinitions\` lists the traits there are)`,
                  { object, field: `${field}.name` },
                );
              }
              const resolved = await resolveTrait(t.trait, deps.definitions, {
                object,
                field,
                what: `trait "${name}" of component "${entry.componentName ?? entry.revisionName}"`,
              });
              const trait = await expandResolved(t.trait, resolved, {
                typeLabel: LABEL_TRAIT_TYPE,
                parameterSchema: deps.parameterSchema,
              });
              if (!trait || jsonEqual(trait, t.trait)) return t;
              changed = true;
              return { ...t, trait };
            }),
          );
          return { ...entry, traits };
        }),
      );
      if (!changed) return {};
      return { patch: diffPatch(appConfig, { ...appConfig, spec: { ...appConfig.spec, components } }) };
    },
  };
}

/** A trait written as `name` (or `type`) + `properties` rather than a full object with apiVersion and kind. */
export function isShorthand(trait: unknown): trait is Record<string, unknown> & { name?: unknown; type?: unknown } {
  if (!trait || typeof trait !== 'object') return false;
  const t = trait as Record<string, unknown>;
  return ('name' in t || 'type' in t) && !(typeof t.apiVersion === 'string' && typeof t.kind === 'string');
}
