/**
 * Render + bind: THE entry point for turning an ApplicationConfiguration into the objects to apply
 * (docs/adr/0002-render-api.md). Used by `trellis render`, the webhooks and the controllers alike.
 */
import { deepFreeze } from '../render/lru.js';
import { planApplication, renderPlan } from '../render/render.js';
import type { BoundApplication, RenderInput } from '../render/types.js';
import { bindApplication } from './bind.js';

export { bindApplication } from './bind.js';
export { appliesTo, findConflict, matchesWorkload, type WorkloadIdentity, type TraitIdentity } from './applies-to.js';
export { mergePatch } from './patch.js';

/**
 * Renders every component of the AppConfig and binds the traits onto the workloads. The result's
 * `objects` are ready for server-side apply: namespaced, labelled (`app.oam.dev/*`), annotated with
 * their provenance (`trellis.dev/*`); the caller adds ownerReferences and the owner mark.
 * Throws a TrellisError (code, object, field, reason) for anything wrong in the input.
 *
 * The result is deep-frozen and may be shared: an input that resolves to the same AppConfig,
 * Components, revisions and definitions (same fingerprint) gets the same result from the engine's
 * application cache, without CUE and without binding again. Copy objects before changing them
 * (`{ ...o, metadata: { ...o.metadata, ownerReferences } }`). With `live` objects given, nothing is
 * cached at this level (templates may read their status).
 *
 * @example
 *   const app = await renderApplication({ appConfig, components, definitions, engine })
 *   for (const { object, source } of app.objects) console.log(source.component, object.kind, object.metadata.name)
 */
export async function renderApplication(input: RenderInput): Promise<BoundApplication> {
  const plan = await planApplication(input);
  const key = input.live ? undefined : `app:${plan.fingerprint()}`;
  const cached = key ? (input.engine.applications.get(key) as BoundApplication | undefined) : undefined;
  if (cached) return cached;
  const bound = deepFreeze(await bindApplication(await renderPlan(plan, input), input.definitions));
  if (key) input.engine.applications.set(key, bound);
  return bound;
}
