import type { Component } from '../../apis/generated/core.oam.dev-v1alpha2.js';
import { describeRequestObject, type Admission, type AdmissionRequest } from '../admission.js';
import type { DefinitionLookup } from '../definition-lookup.js';
import type { AdmissionHandler } from '../handler.js';
import { Problems } from '../problems.js';

/**
 * `validate-components`: the workload is a full object (apiVersion + kind) or names an existing
 * WorkloadDefinition by `type`; parameter names are unique and each has at least one field path.
 */
export function validateComponents(lookup: DefinitionLookup): AdmissionHandler {
  return {
    name: 'validate-components',
    async handle(request: AdmissionRequest): Promise<Admission> {
      const component = request.object as unknown as Component;
      const problems = new Problems(describeRequestObject(request));
      const workload = component.spec?.workload as Record<string, unknown> | undefined;
      if (workload && workload.type !== undefined) {
        const type = String(workload.type);
        const definition = await lookup.workloadDefinition(type);
        if (!definition) problems.add('TRL_ADMISSION_DEFINITION_MISSING', 'spec.workload.type', `WorkloadDefinition "${type}" does not exist; apply it first`);
        else if (!definition.spec?.schematic) problems.add('TRL_ADMISSION_SHORTHAND', 'spec.workload.type', `was not expanded into the kind WorkloadDefinition "${type}" names; is the mutating webhook registered?`);
      } else if (workload && (typeof workload.apiVersion !== 'string' || typeof workload.kind !== 'string')) {
        problems.add('TRL_ADMISSION_WORKLOAD', 'spec.workload', 'needs apiVersion and kind (a full object), or type naming a WorkloadDefinition');
      }
      const seen = new Set<string>();
      (component.spec?.parameters ?? []).forEach((parameter, i) => {
        if (seen.has(parameter.name)) problems.add('TRL_ADMISSION_PARAMETER', `spec.parameters[${i}].name`, `parameter "${parameter.name}" is declared twice`);
        seen.add(parameter.name);
        if (!parameter.fieldPaths?.length) problems.add('TRL_ADMISSION_PARAMETER', `spec.parameters[${i}].fieldPaths`, `parameter "${parameter.name}" must name at least one field path it sets`);
      });
      problems.throwIfAny();
      return {};
    },
  };
}
