import type { Component } from '../../apis/generated/core.oam.dev-v1alpha2.js';
import { LABEL_WORKLOAD_TYPE } from '../../apis/labels.js';
import { TrellisError } from '../../lib/errors.js';
import { resolveWorkload } from '../../render/index.js';
import { describeRequestObject, type Admission, type AdmissionRequest } from '../admission.js';
import type { AdmissionHandler } from '../handler.js';
import { diffPatch } from '../json-patch.js';
import type { WebhookDeps } from './deps.js';
import { expandResolved } from './expand.js';

/**
 * `mutate-components`: a workload given as `type` (+ `spec` or `properties`) is resolved as render/
 * resolves it. A definitionRef type becomes the object its WorkloadDefinition names — apiVersion,
 * kind, `properties` as `spec`, label `workload.oam.dev/type` (upstream's); a CUE-templated type keeps
 * the shorthand with the template's parameter defaults filled in. The Component gets the type label
 * too. A missing definition is denied.
 *
 * @example
 *   workload: { type: web-service, spec: {...} }
 *   // → workload: { apiVersion: core.oam.dev/v1alpha2, kind: ContainerizedWorkload,
 *   //               metadata: { labels: { workload.oam.dev/type: web-service } }, spec: {...} }
 */
export function mutateComponents(deps: WebhookDeps): AdmissionHandler {
  return {
    name: 'mutate-components',
    async handle(request: AdmissionRequest): Promise<Admission> {
      const component = request.object as unknown as Component;
      const workload = component.spec?.workload as Record<string, unknown> | undefined;
      if (!workload || workload.type === undefined) return {};
      const object = describeRequestObject(request);
      const type = workload.type;
      if (typeof type !== 'string' || !type) {
        throw new TrellisError(
          'TRL_ADMISSION_SHORTHAND',
          `must be the name of a WorkloadDefinition, got ${JSON.stringify(type)}`,
          { object, field: 'spec.workload.type' },
        );
      }
      if (workload.properties !== undefined && workload.spec !== undefined) {
        throw new TrellisError(
          'TRL_ADMISSION_SHORTHAND',
          'set properties or spec, not both (they are the same thing)',
          { object, field: 'spec.workload.properties' },
        );
      }
      if (!(await deps.definitions.workloadDefinition(type))) {
        throw new TrellisError(
          'TRL_ADMISSION_DEFINITION_MISSING',
          `WorkloadDefinition "${type}" does not exist; apply it first (\`kubectl get workloaddefinitions\` lists the types there are)`,
          { object, field: 'spec.workload.type' },
        );
      }
      // Re-applying the shorthand over its expanded form (kubectl's three-way merge) brings `type` back next
      // to the apiVersion and kind it was expanded into: fine as long as they agree.
      const { apiVersion, kind, ...shorthand } = workload;
      const resolved = await resolveWorkload(shorthand, deps.definitions, {
        object,
        field: 'spec.workload',
        what: `component "${component.metadata.name}"`,
      });
      if (apiVersion !== undefined || kind !== undefined) {
        const target =
          resolved.mode === 'shorthand'
            ? `${String(resolved.object.apiVersion)} ${String(resolved.object.kind)}`
            : 'what its CUE template renders';
        if (
          resolved.mode !== 'shorthand' ||
          (apiVersion !== undefined && apiVersion !== resolved.object.apiVersion) ||
          (kind !== undefined && kind !== resolved.object.kind)
        ) {
          throw new TrellisError(
            'TRL_ADMISSION_SHORTHAND',
            `is "${[apiVersion, kind].filter((v) => v !== undefined).join(' ')}" but type "${type}" stands for ${target}; drop apiVersion and kind, or type`,
            { object, field: `spec.workload.${apiVersion !== undefined ? 'apiVersion' : 'kind'}` },
          );
        }
      }
      const expanded =
        (await expandResolved(shorthand, resolved, {
          typeLabel: LABEL_WORKLOAD_TYPE,
          parameterSchema: deps.parameterSchema,
        })) ?? workload;
      const labels = { ...component.metadata.labels, [LABEL_WORKLOAD_TYPE]: type };
      const mutated = {
        ...component,
        metadata: { ...component.metadata, labels },
        spec: { ...component.spec, workload: expanded },
      };
      return { patch: diffPatch(component, mutated) };
    },
  };
}
