/**
 * Render + bind: THE entry point for turning an ApplicationConfiguration into the objects to apply
 * (docs/adr/0002-render-api.md, 0007-one-home-per-stage.md). Used by `trellis render`, the webhooks
 * and the controllers alike.
 */
import { bindApplication } from '../bind/bind.js';
import { planApplication, renderPlan } from '../render/render.js';
import type { BoundApplication, RenderedComponent, RenderedObject, RenderInput } from '../render/types.js';
import { cloneJson } from '../lib/clone.js';
import { applicationCache } from './cache.js';

/**
 * Renders every component of the AppConfig and binds the traits onto the workloads. The result's
 * `objects` are ready for server-side apply: namespaced, labelled (`app.oam.dev/*`), annotated with
 * their provenance (`trellis.dev/*`); the caller adds ownerReferences and the owner mark.
 * Throws a TrellisError (code, object, field, reason) for anything wrong in the input.
 *
 * The objects are the caller's own to change (e.g. `writeDataInput`, ownerReferences). An input that
 * resolves to the same AppConfig, Components, revisions and definitions (same fingerprint) is
 * answered from the engine's application cache (./cache.ts) — without CUE and without binding — as a
 * fresh copy. With `live` objects given, nothing is cached at this level (templates may read their status).
 *
 * @example
 *   const app = await renderApplication({ appConfig, components, definitions, engine })
 *   for (const { object, source } of app.objects) console.log(source.component, object.kind, object.metadata.name)
 */
export async function renderApplication(input: RenderInput): Promise<BoundApplication> {
  const plan = await planApplication(input);
  const key = input.live ? undefined : `app:${plan.fingerprint()}`;
  const cache = applicationCache(input.engine);
  const cached = key ? cache.get(key) : undefined;
  if (cached) return copyOf(cached);
  const bound = await bindApplication(await renderPlan(plan, input), input.definitions);
  if (key) cache.set(key, bound);
  return copyOf(bound);
}

/**
 * A copy the caller may change: every object deep-copied (parts of them are shared with the CUE
 * cache, frozen), the structure around them new; definitions are shared as the source gave them.
 */
function copyOf(app: BoundApplication): BoundApplication {
  const copies = new Map<RenderedObject, RenderedObject>();
  const copy = (o: RenderedObject): RenderedObject => {
    let c = copies.get(o);
    if (!c) {
      c = { object: cloneJson(o.object), source: { ...o.source } };
      copies.set(o, c);
    }
    return c;
  };
  const components = app.components.map((c): RenderedComponent => ({
    ...c,
    workload: copy(c.workload),
    outputs: c.outputs.map(copy),
    traits: c.traits.map((t) => ({
      ...t,
      ...(t.object ? { object: copy(t.object) } : {}),
      outputs: t.outputs.map(copy),
      ...(t.patch ? { patch: cloneJson(t.patch) } : {}),
    })),
    scopes: c.scopes.map((s) => ({ ...s })),
  }));
  return { ...app, components, objects: app.objects.map(copy) };
}
