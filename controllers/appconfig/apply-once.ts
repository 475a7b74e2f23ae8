import { ANNOTATION_APPLY_ONCE, ANNOTATION_TRAIT, LABEL_COMPONENT, LABEL_REVISION } from '../../apis/labels.js';
import type { KubeObject } from '../../kube/types.js';
import type { BoundApplication } from '../../render/index.js';
import type { ApplicationConfiguration } from '../types.js';

/**
 * The objects with the apply-once epoch ({@link ANNOTATION_APPLY_ONCE}) set on those in apply-once
 * mode — all of them with `spec.applyOnce`, else those of traits whose entry says `applyOnce` (the
 * trait's object and outputs, matched by their `trellis.dev/trait` annotation). The epoch is the
 * AppConfig's generation and the component's revision, so either changing applies them again;
 * being part of the applied hash, the epoch needs no memory besides the object itself.
 *
 * @example
 *   markApplyOnce(app, bound, gate.apply)   // Deployment web: trellis.dev/apply-once: "3/web-v2"
 */
export function markApplyOnce(
  app: ApplicationConfiguration,
  bound: BoundApplication,
  objects: KubeObject[],
): KubeObject[] {
  const all = app.spec?.applyOnce === true;
  const traits = new Set<string>();
  for (const c of bound.components) {
    const entry = app.spec?.components?.[c.index];
    for (const t of c.traits) if (entry?.traits?.[t.index]?.applyOnce) traits.add(`${c.name}/${t.name}`);
  }
  if (!all && !traits.size) return objects;
  return objects.map((o) => {
    const component = o.metadata.labels?.[LABEL_COMPONENT] ?? '';
    const trait = o.metadata.annotations?.[ANNOTATION_TRAIT];
    if (!all && !(trait && traits.has(`${component}/${trait}`))) return o;
    const epoch = `${app.metadata.generation ?? 0}/${o.metadata.labels?.[LABEL_REVISION] ?? ''}`;
    return {
      ...o,
      metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, [ANNOTATION_APPLY_ONCE]: epoch } },
    };
  });
}
