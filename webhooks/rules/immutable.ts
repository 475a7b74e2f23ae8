import type { KubeObject } from '../../kube/types.js';
import type { Problems } from '../problems.js';
import { jsonEqual } from '../../lib/equal.js';

/** A field that may be set once and never changed, and why. */
export interface ImmutableField {
  path: string[];
  why: string;
  /**
   * The old value names a kind (a definitionRef): it may still change while that kind is not served,
   * since then no object of it can exist — that is fixing a typo, e.g. upstream's own chart names
   * `healthscope.core.oam.dev` for the CRD `healthscopes.core.oam.dev`.
   */
  unlessUnserved?: boolean;
}

const DEFINITION_REF: ImmutableField = {
  path: ['spec', 'definitionRef', 'name'],
  why: 'every existing object of this type was created as that kind; create a new definition under another name instead',
  unlessUnserved: true,
};

/** Immutable fields per kind. */
export const IMMUTABLE_FIELDS: Record<string, ImmutableField[]> = {
  WorkloadDefinition: [DEFINITION_REF],
  TraitDefinition: [
    DEFINITION_REF,
    {
      path: ['spec', 'workloadRefPath'],
      why: 'existing traits carry their workloadRef at the old path; create a new definition instead',
    },
  ],
  ScopeDefinition: [DEFINITION_REF],
};

const at = (obj: unknown, path: string[]): unknown =>
  path.reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);

/** On UPDATE: each immutable field that was set keeps its value. `served` tells whether a definitionRef name is a served kind. */
export async function checkImmutable(
  oldObject: KubeObject | null | undefined,
  object: KubeObject,
  problems: Problems,
  served: (name: string) => Promise<boolean>,
): Promise<void> {
  if (!oldObject) return;
  for (const field of IMMUTABLE_FIELDS[object.kind] ?? []) {
    const before = at(oldObject, field.path);
    if (before === undefined) continue;
    const after = at(object, field.path);
    if (!jsonEqual(before, after)) {
      if (field.unlessUnserved && typeof before === 'string' && !(await served(before))) continue;
      problems.add(
        'TRL_ADMISSION_IMMUTABLE',
        field.path.join('.'),
        `is immutable: was ${JSON.stringify(before)}, now ${after === undefined ? 'removed' : JSON.stringify(after)}; ${field.why}`,
      );
    }
  }
}
