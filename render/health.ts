/**
 * Health per definition (DESIGN.md §3): `spec.status.healthPolicy` is CUE that sets `isHealth`,
 * `customStatus` CUE that sets `message`, both reading `context.output` — the live object.
 */
import type { TraitDefinition, WorkloadDefinition } from '../apis/generated/core.oam.dev-v1alpha2.js';
import { TrellisError } from '../lib/errors.js';
import type { KubeObject } from '../kube/types.js';
import { CueError, describeIssues, type CueEngine } from '../cue/index.js';
import { contextFor } from './template-output.js';

export interface HealthResult {
  /** `undefined` when the definition has no health policy. */
  healthy?: boolean;
  /** From `customStatus`, or why the health policy could not be evaluated. */
  message?: string;
}

/**
 * Evaluates the definition's health policy and custom status against the live object. A policy
 * that cannot be decided yet (e.g. the object has no status) counts as unhealthy, with the reason as
 * message. Throws TRL_DEFINITION_TEMPLATE when the policy itself does not compile.
 *
 * @example
 *   const { healthy, message } = await evaluateHealth(webserviceDefinition, liveDeployment, engine)
 */
export async function evaluateHealth(definition: WorkloadDefinition | TraitDefinition | undefined, live: KubeObject, engine: CueEngine): Promise<HealthResult> {
  const id = definition ? `${definition.kind}/${definition.metadata.name}` : 'definition';
  const policy = definition?.spec?.status?.healthPolicy;
  const custom = definition?.spec?.status?.customStatus;
  const context = { output: live, name: live.metadata.name, namespace: live.metadata.namespace };
  const run = async (template: string, field: 'isHealth' | 'message', specField: string) => {
    try {
      const out = await engine.evaluate({ template, context: contextFor(template, context), fields: [field] });
      return { value: out[field] };
    } catch (err) {
      if (err instanceof CueError && err.scope === 'template') {
        throw new TrellisError('TRL_DEFINITION_TEMPLATE', `${specField} does not compile: ${describeIssues(err.issues)}`, { object: id, field: `spec.status.${specField}`, cause: err });
      }
      if (err instanceof CueError) return { error: describeIssues(err.issues) };
      throw err;
    }
  };
  const [h, m] = await Promise.all([policy ? run(policy, 'isHealth', 'healthPolicy') : undefined, custom ? run(custom, 'message', 'customStatus') : undefined]);
  const result: HealthResult = {};
  if (h) {
    if ('error' in h) {
      result.healthy = false;
      result.message = `health policy of ${id} could not be decided: ${h.error}`;
    } else if (typeof h.value !== 'boolean') {
      result.healthy = false;
      result.message = `health policy of ${id} sets isHealth to ${JSON.stringify(h.value)}, not a bool`;
    } else result.healthy = h.value;
  }
  if (m && !('error' in m) && typeof m.value === 'string' && result.message === undefined) result.message = m.value;
  return result;
}
