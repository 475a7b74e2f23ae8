import { describeRequestObject, type Admission, type AdmissionRequest } from '../admission.js';
import type { DefinitionLookup } from '../definition-lookup.js';
import type { AdmissionHandler } from '../handler.js';
import { Problems } from '../problems.js';
import { checkImmutable } from '../rules/immutable.js';

/**
 * `validate-definitions` (WorkloadDefinition, TraitDefinition, ScopeDefinition): immutable fields stay
 * as they were (a definitionRef naming no served kind may still be corrected). A `definitionRef` whose kind is not served yet is admitted with a warning: its CRD
 * may simply be applied after it.
 */
export function validateDefinitions(lookup: DefinitionLookup): AdmissionHandler {
  return {
    name: 'validate-definitions',
    async handle(request: AdmissionRequest): Promise<Admission> {
      const definition = request.object!;
      const object = describeRequestObject(request);
      const problems = new Problems(object);
      await checkImmutable(request.oldObject, definition, problems, async (name) => !!(await lookup.kindOf({ name })));
      problems.throwIfAny();
      const ref = (definition.spec as { definitionRef?: { name: string; version?: string } } | undefined)?.definitionRef;
      const warnings: string[] = [];
      if (ref?.name && !(await lookup.kindOf(ref))) {
        warnings.push(`${object}: spec.definitionRef.name: "${ref.name}" is not served by the API server yet; objects of this type cannot be created until its CRD is installed`);
      }
      return { warnings };
    },
  };
}
