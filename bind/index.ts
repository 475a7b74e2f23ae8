/**
 * Render + bind: THE entry point for turning an ApplicationConfiguration into the objects to apply
 * (docs/adr/0002-render-api.md). Used by `trellis render`, the webhooks and the controllers alike.
 */
import { renderComponents } from '../render/render.js';
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
 * @example
 *   const app = await renderApplication({ appConfig, components, definitions, engine })
 *   for (const { object, source } of app.objects) console.log(source.component, object.kind, object.metadata.name)
 */
export async function renderApplication(input: RenderInput): Promise<BoundApplication> {
  return bindApplication(await renderComponents(input), input.definitions);
}
