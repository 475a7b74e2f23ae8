import type { DefinitionStatus } from '../apis/generated/core.oam.dev-v1alpha2.js';
import type { KubeObject } from '../kube/types.js';
import { messageOf } from '../lib/errors.js';
import { CueError, describeIssues, type CueEngine } from '../cue/index.js';
import { contextFor } from '../render/index.js';
import type { Health } from './health.js';

/** A definition as far as its health policy goes (OAM's Workload/TraitDefinition, KubeVela's ComponentDefinition). */
export interface PolicyHolder {
  kind?: string;
  metadata?: { name?: string };
  spec?: { status?: DefinitionStatus };
}

/**
 * The health of a live object by its definition's CUE (`spec.status.healthPolicy` setting
 * `isHealth`, `customStatus` setting `message`, both reading `context.output` — the live object —
 * and `context.name` / `context.namespace`), evaluated through render/'s engine (cached by what the
 * policy reads). `undefined` when the definition has no policy.
 *
 * - a policy that cannot be decided yet (the object has no status) is UNHEALTHY, with CUE's reason;
 * - `isHealth` that is not a bool is UNHEALTHY, saying so;
 * - a policy that does not compile is UNKNOWN, naming the definition and the field
 *   (admission refuses such definitions; one applied before the webhook ran can still exist);
 * - `customStatus`'s `message`, when it evaluates to a string, is the message either way.
 *
 * `more` adds to the context (an Application's traits: `outputs`, `parameter`, which KubeVela's
 * trait policies read as `context.outputs.<key>`); with it, `live` may be absent.
 *
 * @example
 *   await policyHealth(engine, webservice, liveDeployment)   // { status: 'UNHEALTHY', message: 'Ready: 1' }
 */
export async function policyHealth(
  engine: CueEngine,
  definition: PolicyHolder | undefined,
  live: KubeObject | undefined,
  more?: Record<string, unknown>,
): Promise<Health | undefined> {
  const policy = definition?.spec?.status;
  if (!policy?.healthPolicy && !policy?.customStatus) return undefined;
  if (!live && !more) return { status: 'UNKNOWN', message: 'not found' };
  const id = `${definition?.kind ?? 'definition'}/${definition?.metadata?.name ?? ''}`;
  const context = {
    ...more,
    ...(live ? { output: live, name: live.metadata.name, namespace: live.metadata.namespace } : {}),
  };
  const run = async (
    template: string,
    field: 'isHealth' | 'message',
  ): Promise<{ value: unknown } | { error: string; compiles: boolean }> => {
    try {
      const out = await engine.evaluate({ template, context: contextFor(template, context), fields: [field] });
      return { value: out[field] };
    } catch (err) {
      if (err instanceof CueError && err.scope !== 'engine')
        return { error: describeIssues(err.issues), compiles: err.scope !== 'template' };
      return { error: messageOf(err), compiles: true };
    }
  };
  const [h, m] = await Promise.all([
    policy.healthPolicy ? run(policy.healthPolicy, 'isHealth') : undefined,
    policy.customStatus ? run(policy.customStatus, 'message') : undefined,
  ]);
  for (const [result, field] of [
    [h, 'healthPolicy'],
    [m, 'customStatus'],
  ] as const) {
    if (result && 'error' in result && !result.compiles)
      return { status: 'UNKNOWN', message: `${id}: spec.status.${field} does not compile: ${result.error}` };
  }
  const custom = m && 'value' in m && typeof m.value === 'string' ? m.value : undefined;
  if (h && 'error' in h)
    return { status: 'UNHEALTHY', message: custom ?? `health policy of ${id} could not be decided: ${h.error}` };
  if (h && typeof h.value !== 'boolean')
    return {
      status: 'UNHEALTHY',
      message: `health policy of ${id} sets isHealth to ${JSON.stringify(h.value)}, not a bool`,
    };
  const ok = !h || h.value === true;
  return {
    status: ok ? 'HEALTHY' : 'UNHEALTHY',
    message: custom ?? (ok ? 'healthy' : 'unhealthy by its health policy'),
  };
}
