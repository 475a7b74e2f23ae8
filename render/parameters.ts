/**
 * Component parameters (DESIGN.md §4.3): `Component.spec.parameters[].fieldPaths` receive the
 * AppConfig's `parameterValues`. Paths are relative to `spec.workload` as written, so they reach into
 * a full object (`spec.containers[0].image`) or a shorthand (`properties.image`, `spec.image`).
 */
import type { Component, ParameterValue } from '../apis/generated/core.oam.dev-v1alpha2.js';
import { TrellisError } from '../lib/errors.js';
import { setFieldPath } from '../lib/fieldpath.js';
import { cloneJson } from '../lib/clone.js';

export interface ParameterContext {
  /** The AppConfig, as `ApplicationConfiguration/<ns>/<name>`. */
  object: string;
  /** Field of the component entry, e.g. `spec.components[0]`. */
  field: string;
  component: string;
}

/**
 * The Component's workload with the parameter values written in (a copy; the Component is not
 * changed). Throws TRL_RENDER_PARAMETER_UNKNOWN for a value naming no parameter and
 * TRL_RENDER_PARAMETER_MISSING for a required parameter without a value.
 */
export function applyParameters(
  component: Component,
  values: ParameterValue[] = [],
  where: ParameterContext,
): Record<string, unknown> {
  const workload = cloneJson(component.spec.workload);
  const declared = new Map((component.spec.parameters ?? []).map((p) => [p.name, p]));
  values.forEach((value, i) => {
    if (!declared.has(value.name)) {
      const known = [...declared.keys()];
      throw new TrellisError(
        'TRL_RENDER_PARAMETER_UNKNOWN',
        `component "${where.component}" has no parameter "${value.name}"${known.length ? ` (it has: ${known.join(', ')})` : ' (it declares none)'}`,
        { object: where.object, field: `${where.field}.parameterValues[${i}].name` },
      );
    }
  });
  const given = new Map(values.map((v) => [v.name, v.value]));
  for (const param of component.spec.parameters ?? []) {
    if (!given.has(param.name)) {
      if (param.required) {
        throw new TrellisError(
          'TRL_RENDER_PARAMETER_MISSING',
          `component "${where.component}" requires parameter "${param.name}", which has no value`,
          {
            object: where.object,
            field: `${where.field}.parameterValues`,
          },
        );
      }
      continue;
    }
    for (const path of param.fieldPaths) {
      try {
        setFieldPath(workload, path, cloneJson(given.get(param.name)));
      } catch (err) {
        throw new TrellisError(
          'TRL_RENDER_PARAMETER',
          `parameter "${param.name}" of component "${where.component}": ${(err as TrellisError).reason ?? (err as Error).message}`,
          {
            object: `Component/${component.metadata.name}`,
            field: 'spec.parameters',
            cause: err,
          },
        );
      }
    }
  }
  return workload;
}
