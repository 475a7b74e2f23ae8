import type { Component } from '../../apis/generated/core.oam.dev-v1alpha2.js';
import { templateOf } from '../../definitions/index.js';
import { isTrellisError } from '../../lib/errors.js';
import { staticComponents } from '../../render/index.js';
import { describeRequestObject, type Admission, type AdmissionRequest } from '../admission.js';
import type { AdmissionHandler } from '../handler.js';
import { schemaIfDerivable } from '../parameter-schemas.js';
import { Problems } from '../problems.js';
import { renderUnlessSettled } from '../render-check.js';
import { checkProperties } from '../rules/properties.js';
import type { WebhookDeps } from './deps.js';

/**
 * `validate-components`: the workload is a full object (apiVersion + kind) or names an existing
 * CUE-templated WorkloadDefinition by `type`, whose properties match the template's `parameter` —
 * checked against its JSON Schema (field-precise), then by rendering the Component as render/ will —
 * except required ones a Component parameter supplies; parameter names are unique and each names at
 * least one field path.
 */
export function validateComponents(deps: WebhookDeps): AdmissionHandler {
  return {
    name: 'validate-components',
    async handle(request: AdmissionRequest): Promise<Admission> {
      const component = request.object as unknown as Component;
      const problems = new Problems(describeRequestObject(request));
      const workload = component.spec?.workload as Record<string, unknown> | undefined;
      const parameters = component.spec?.parameters ?? [];
      if (workload && workload.type !== undefined) {
        const type = String(workload.type);
        const definition = await deps.definitions.workloadDefinition(type);
        const template = templateOf(definition);
        if (!definition)
          problems.add(
            'TRL_ADMISSION_DEFINITION_MISSING',
            'spec.workload.type',
            `WorkloadDefinition "${type}" does not exist; apply it first`,
          );
        else if (template === undefined)
          problems.add(
            'TRL_ADMISSION_SHORTHAND',
            'spec.workload.type',
            `was not expanded into the kind WorkloadDefinition "${type}" names; is the mutating webhook registered?`,
          );
        else {
          const key = workload.properties !== undefined || workload.spec === undefined ? 'properties' : 'spec';
          const suppliedLater = parameters
            .flatMap((p) => p.fieldPaths ?? [])
            .filter((f) => f.startsWith(`${key}.`))
            .map((f) => f.slice(key.length + 1));
          // No schema (CUE cannot express this parameter): the render below checks the properties.
          const schema = await schemaIfDerivable(deps.parameterSchema, template);
          if (schema)
            checkProperties(workload[key] as Record<string, unknown> | undefined, schema, problems, {
              field: `spec.workload.${key}`,
              definition: `WorkloadDefinition "${type}"`,
              suppliedLater,
            });
          problems.throwIfAny();
          await checkComponentRenders(
            component,
            request.namespace ?? component.metadata.namespace ?? 'default',
            deps,
            new Set(suppliedLater),
          );
        }
      } else if (workload && (typeof workload.apiVersion !== 'string' || typeof workload.kind !== 'string')) {
        problems.add(
          'TRL_ADMISSION_WORKLOAD',
          'spec.workload',
          'needs apiVersion and kind (a full object), or type naming a WorkloadDefinition',
        );
      }
      const seen = new Set<string>();
      parameters.forEach((parameter, i) => {
        if (seen.has(parameter.name))
          problems.add(
            'TRL_ADMISSION_PARAMETER',
            `spec.parameters[${i}].name`,
            `parameter "${parameter.name}" is declared twice`,
          );
        seen.add(parameter.name);
        if (!parameter.fieldPaths?.length)
          problems.add(
            'TRL_ADMISSION_PARAMETER',
            `spec.parameters[${i}].fieldPaths`,
            `parameter "${parameter.name}" must name at least one field path it sets`,
          );
      });
      problems.throwIfAny();
      return {};
    },
  };
}

/**
 * Renders the Component on its own (render/ + bind/). What only an AppConfig can settle is not held
 * against it: a required parameter a Component parameter will set, a required Component parameter.
 */
async function checkComponentRenders(
  component: Component,
  namespace: string,
  deps: WebhookDeps,
  suppliedLater: Set<string>,
): Promise<void> {
  const name = component.metadata.name ?? 'component';
  const appConfig = {
    apiVersion: 'core.oam.dev/v1alpha2' as const,
    kind: 'ApplicationConfiguration' as const,
    metadata: { name: `${name}-admission`, namespace },
    spec: { components: [{ componentName: name }] },
  };
  try {
    await renderUnlessSettled(
      {
        appConfig,
        components: staticComponents([{ ...component, metadata: { ...component.metadata, name } }]),
        definitions: deps.definitions,
        engine: deps.engine,
        facts: deps.templateFacts,
      },
      appConfig,
    );
  } catch (err) {
    if (!isTrellisError(err)) throw err;
    if (err.code === 'TRL_CUE_ENGINE') throw new Error(err.message, { cause: err });
    if (err.code === 'TRL_RENDER_PARAMETER_MISSING') return;
    if (err.code === 'TRL_RENDER_PARAMETER' && onlySuppliedLaterMissing(err.reason, suppliedLater)) return;
    throw err;
  }
}

/** True when every clause of a parameter error is `parameter "x" is required` for an x a Component parameter sets. */
function onlySuppliedLaterMissing(reason: string, suppliedLater: Set<string>): boolean {
  const clauses = reason.replace(/^cannot render [^:]*: /, '').split('; ');
  return clauses.every((c) => {
    const m = /^parameter "([^"]+)" is required$/.exec(c);
    return !!m && suppliedLater.has(m[1]!);
  });
}
