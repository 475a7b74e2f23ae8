/**
 * Render + bind: THE entry point for turning an ApplicationConfiguration into the objects to apply
 * (docs/adr/0002-render-api.md, 0007-one-home-per-stage.md). Used by `trellis render`, the webhooks
 * and the controllers alike.
 */
import { bindApplication } from '../bind/bind.js';
import { planApplication, renderPlan } from '../render/render.js';
import type { BoundApplication, RenderedComponent, RenderedObject, RenderInput } from '../render/types.js';
import { deepFreeze } from '../cue/index.js';
import { cloneJson } from '../lib/clone.js';
import { applicationCache } from './cache.js';

/**
 * Renders every component of the AppConfig and binds the traits onto the workloads. The result's
 * `objects` are ready for server-side apply: namespaced, labelled (`app.oam.dev/*`), annotated with
 * their provenance (`trellis.dev/*`); the caller adds ownerReferences and the owner mark.
 * Throws a TrellisError (code, object, field, reason) for anything wrong in the input.
 *
 * The result is **frozen and shared**: every rendered object, trait patch and the structure around
 * them (the application, its components, traits and lists) is `Object.freeze`d, and the same result
 * may be handed to other callers — writing to it throws a TypeError. A caller that changes objects
 * (data inputs, say) takes {@link ownCopy} first; one that builds new objects from them (`{ ...o,
 * metadata: { ... } }`, as apply/ does) needs no copy. What came from the input is not frozen:
 * `definition`, `dataInputs`/`dataOutputs` and `scopes` are the input's own (shared, as before).
 * An input that resolves to the same AppConfig, Components, revisions and definitions (same
 * fingerprint) is answered from the engine's application cache (./cache.ts) — without CUE, without
 * binding and without a copy. With `live` objects given, nothing is cached (templates may read their
 * status), the result is frozen all the same.
 *
 * @example
 *   const app = await renderApplication({ appConfig, components, definitions, engine })
 *   for (const { object, source } of app.objects) console.log(source.component, object.kind, object.metadata.name)
 *   const mine = ownCopy(app) // only to change it
 */
export async function renderApplication(input: RenderInput): Promise<BoundApplication> {
  const plan = await planApplication(input);
  const key = input.live ? undefined : `app:${plan.fingerprint()}`;
  const cache = applicationCache(input.engine);
  const cached = key ? cache.get(key) : undefined;
  if (cached) return cached;
  // Copied once, so that freezing never reaches what the input or the CUE cache hold.
  const bound = frozen(ownCopy(await bindApplication(await renderPlan(plan, input), input.definitions)));
  if (key) cache.set(key, bound);
  return bound;
}

/**
 * A copy of a rendered application the caller may change: every object and trait patch deep-copied,
 * the structure around them new (unfrozen); `definition`, `dataInputs`/`dataOutputs` and `scopes`'
 * entries are shared as the input gave them. Objects shared between `components` and `objects` stay
 * shared in the copy (one copy each), so a change through either is seen through both.
 *
 * @example
 *   const app = ownCopy(await renderApplication(input))
 *   writeDataInput(app.components[0].workload.object, input, value)
 */
export function ownCopy(app: BoundApplication): BoundApplication {
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

/** Freezes what {@link ownCopy} made (objects, patches, the structure), not what it shares with the input. */
function frozen(app: BoundApplication): BoundApplication {
  const object = (o: RenderedObject) => {
    deepFreeze(o.object);
    Object.freeze(o.source);
    Object.freeze(o);
  };
  for (const c of app.components) {
    object(c.workload);
    c.outputs.forEach(object);
    for (const t of c.traits) {
      if (t.object) object(t.object);
      t.outputs.forEach(object);
      if (t.patch) deepFreeze(t.patch);
      Object.freeze(t.outputs);
      Object.freeze(t);
    }
    c.scopes.forEach((s) => Object.freeze(s));
    Object.freeze(c.outputs);
    Object.freeze(c.traits);
    Object.freeze(c.scopes);
    Object.freeze(c);
  }
  app.objects.forEach(object);
  Object.freeze(app.objects);
  Object.freeze(app.components);
  return Object.freeze(app);
}
