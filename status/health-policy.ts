import type { DefinitionStatus } from '../apis/generated/core.oam.dev-v1alpha2.js';
import type { KubeObject } from '../kube/types.js';
import { messageOf } from '../lib/errors.js';
import type { CueEngine } from '../cue/index.js';
import type { Health } from './health.js';

/**
 * The health of a live object by its definition's CUE (`spec.status.healthPolicy` setting
 * `isHealth`, `customStatus` setting `message`, both reading `context.output`), evaluated through
 * render/'s engine (cached by what the policy reads). `undefined` when the definition has no policy.
 * `more` adds to the context (an Application's traits: `outputs`, `parameter`).
 *
 * @example
 *   await policyHealth(engine, webservice.spec.status, liveDeployment)   // { status: 'UNHEALTHY', message: 'Ready: 1' }
 */
export async function policyHealth(
  engine: CueEngine,
  policy: DefinitionStatus | undefined,
  live: KubeObject | undefined,
  more?: Record<string, unknown>,
): Promise<Health | undefined> {
  if (!policy?.healthPolicy && !policy?.customStatus) return undefined;
  if (!live && !more) return { status: 'UNKNOWN', message: 'not found' };
  // KubeVela's trait policies read `context.outputs.<key>` (the live objects of the template's outputs).
  const context = { ...more, ...(live ? { output: live } : {}) };
  try {
    const [health, custom] = await Promise.all([
      policy.healthPolicy ? engine.evaluate({ template: policy.healthPolicy, context, fields: ['isHealth'] }) : Promise.resolve({ isHealth: true }),
      policy.customStatus ? engine.evaluate({ template: policy.customStatus, context, fields: ['message'] }) : Promise.resolve({} as Record<string, unknown>),
    ]);
    const ok = health.isHealth === true;
    const message = typeof custom.message === 'string' ? custom.message : ok ? 'healthy' : 'unhealthy by its health policy';
    return { status: ok ? 'HEALTHY' : 'UNHEALTHY', message };
  } catch (err) {
    return { status: 'UNKNOWN', message: `health policy failed: ${messageOf(err)}` };
  }
}
