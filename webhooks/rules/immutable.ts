import type { KubeObject } from '../../kube/types.js';
import type { Problems } from '../problems.js';

/** A field that may be set once and never changed, and why. */
export interface ImmutableField {
  path: string[];
  why: string;
}

const DEFINITION_REF: ImmutableField = {
  path: ['spec', 'definitionRef', 'name'],
  why: 'every existing object of this type was created as that kind; create a new definition under another name instead',
};

/** Immutable fields per kind. */
export const IMMUTABLE_FIELDS: Record<string, ImmutableField[]> = {
  WorkloadDefinition: [DEFINITION_REF],
  TraitDefinition: [
    DEFINITION_REF,
    { path: ['spec', 'workloadRefPath'], why: 'existing traits carry their workloadRef at the old path; create a new definition instead' },
  ],
  ScopeDefinition: [DEFINITION_REF],
};

const at = (obj: unknown, path: string[]): unknown => path.reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);

/** On UPDATE: each immutable field that was set keeps its value. */
export function checkImmutable(oldObject: KubeObject | null | undefined, object: KubeObject, problems: Problems): void {
  if (!oldObject) return;
  for (const field of IMMUTABLE_FIELDS[object.kind] ?? []) {
    const before = at(oldObject, field.path);
    if (before === undefined) continue;
    const after = at(object, field.path);
    if (JSON.stringify(before) !== JSON.stringify(after)) {
      problems.add('TRL_ADMISSION_IMMUTABLE', field.path.join('.'), `is immutable: was ${JSON.stringify(before)}, now ${after === undefined ? 'removed' : JSON.stringify(after)}; ${field.why}`);
    }
  }
}
