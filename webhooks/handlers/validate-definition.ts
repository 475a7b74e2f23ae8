import type { TraitDefinition, WorkloadDefinition } from '../../apis/generated/core.oam.dev-v1alpha2.js';
import type { KubeObject } from '../../kube/index.js';
import { describeRequestObject, type Admission, type AdmissionRequest } from '../admission.js';
import { checkDefinitionExample } from '../definition-example.js';
import type { AdmissionHandler } from '../handler.js';
import { Problems } from '../problems.js';
import { checkImmutable } from '../rules/immutable.js';
import type { WebhookDeps } from './deps.js';

/**
 * `validate-definitions` (WorkloadDefinition, TraitDefinition, ScopeDefinition): immutable fields stay
 * as they were (a definitionRef naming no served kind may still be corrected); a CUE template
 * compiles and its example renders. A `definitionRef` whose kind is not served yet is admitted with
 * a warning: its CRD may simply be applied after it.
 */
export function validateDefinitions(deps: WebhookDeps): AdmissionHandler {
  return {
    name: 'validate-definitions',
    async handle(request: AdmissionRequest): Promise<Admission> {
      const definition = request.object!;
      const object = describeRequestObject(request);
      const problems = new Problems(object);
      await checkImmutable(
        request.oldObject,
        definition,
        problems,
        async (name) => !!(await deps.definitions.resourceByName(name)),
      );
      problems.throwIfAny();
      const warnings: string[] = [];
      const ref = (definition.spec as { definitionRef?: { name: string } } | undefined)?.definitionRef;
      if (ref?.name && !(await deps.definitions.resourceByName(ref.name))) {
        warnings.push(
          `${object}: spec.definitionRef.name: "${ref.name}" is not served by the API server yet; objects of this type cannot be created until its CRD is installed`,
        );
      }
      if (definition.kind !== 'ScopeDefinition') {
        const example = await checkDefinitionExample(
          definition as (WorkloadDefinition | TraitDefinition) & KubeObject,
          deps,
        );
        if (example.warning) warnings.push(example.warning);
      }
      return { warnings };
    },
  };
}
