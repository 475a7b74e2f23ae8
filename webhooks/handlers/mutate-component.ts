import type { Component } from '../../apis/generated/core.oam.dev-v1alpha2.js';
import { LABEL_WORKLOAD_TYPE } from '../../apis/labels.js';
import { TrellisError } from '../../lib/errors.js';
import { describeRequestObject, type Admission, type AdmissionRequest } from '../admission.js';
import type { DefinitionLookup } from '../definition-lookup.js';
import type { AdmissionHandler } from '../handler.js';
import { diffPatch } from '../json-patch.js';
import { expandShorthand } from './shorthand.js';

/**
 * `mutate-components`: a workload given as `type` (+ `spec` or `properties`) becomes the object the
 * WorkloadDefinition names — its apiVersion and kind, `properties` as `spec`, the label
 * `workload.oam.dev/type` on the workload and on the Component. A definition rendered by a CUE
 * template keeps the shorthand (render/ evaluates it) and only gets the label. A missing definition
 * is denied.
 *
 * @example
 *   workload: { type: web-service, spec: {...} }
 *   // → workload: { apiVersion: core.oam.dev/v1alpha2, kind: ContainerizedWorkload,
 *   //               metadata: { labels: { workload.oam.dev/type: web-service } }, spec: {...} }
 */
export function mutateComponents(lookup: DefinitionLookup): AdmissionHandler {
  return {
    name: 'mutate-components',
    async handle(request: AdmissionRequest): Promise<Admission> {
      const component = request.object as unknown as Component;
      const workload = component.spec?.workload as Record<string, unknown> | undefined;
      if (!workload || workload.type === undefined) return {};
      const object = describeRequestObject(request);
      const type = workload.type;
      if (typeof type !== 'string' || !type) {
        throw new TrellisError('TRL_ADMISSION_SHORTHAND', `must be the name of a WorkloadDefinition, got ${JSON.stringify(type)}`, { object, field: 'spec.workload.type' });
      }
      const definition = await lookup.workloadDefinition(type);
      if (!definition) {
        throw new TrellisError('TRL_ADMISSION_DEFINITION_MISSING', `WorkloadDefinition "${type}" does not exist; apply it first (\`kubectl get workloaddefinitions\` lists the types there are)`, { object, field: 'spec.workload.type' });
      }
      const expanded = await expandShorthand({
        shorthand: workload,
        typeField: 'type',
        typeLabel: LABEL_WORKLOAD_TYPE,
        definition: { kind: 'WorkloadDefinition', name: type, spec: definition.spec },
        lookup,
        object,
        field: 'spec.workload',
      });
      const labels = { ...component.metadata.labels, [LABEL_WORKLOAD_TYPE]: type };
      const mutated = { ...component, metadata: { ...component.metadata, labels }, spec: { ...component.spec, workload: expanded } };
      return { patch: diffPatch(component, mutated) };
    },
  };
}
