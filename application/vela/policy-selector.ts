/**
 * KubeVela's policy rule selectors (`shared-resource`, `garbage-collect` and `apply-once` rules):
 * which rendered objects a rule is about. Every field given must match (a field lists alternatives);
 * a selector with no field matches every object.
 *
 * @example
 *   { resourceTypes: ['ConfigMap'], componentNames: ['config'] } // ConfigMaps of the component "config"
 */
import type { ApplicationComponent } from '../../apis/generated/core.oam.dev-v1beta1.js';
import type { RenderedObject } from '../../render/types.js';
import { isRecord } from '../../lib/is-record.js';

export interface ResourceSelector {
  componentNames?: string[];
  componentTypes?: string[];
  /** `COMPONENT` (what a component's template outputs) or `TRAIT` (what a trait's template outputs). */
  oamTypes?: string[];
  traitTypes?: string[];
  /** Kinds, e.g. `ConfigMap`. */
  resourceTypes?: string[];
  resourceNames?: string[];
}

const FIELDS = [
  'componentNames',
  'componentTypes',
  'oamTypes',
  'traitTypes',
  'resourceTypes',
  'resourceNames',
] as const;

/** The selector of one rule (`rules[i].selector`), keeping only lists of strings. */
export function selectorOf(rule: unknown): ResourceSelector {
  const raw = isRecord(rule) && isRecord(rule.selector) ? rule.selector : {};
  const out: ResourceSelector = {};
  for (const f of FIELDS) {
    const v = raw[f];
    if (Array.isArray(v)) out[f] = v.filter((x): x is string => typeof x === 'string');
  }
  return out;
}

/** Whether `selector` picks the rendered object `r` of an Application with `components`. */
export function selects(selector: ResourceSelector, r: RenderedObject, components: ApplicationComponent[]): boolean {
  const trait = r.source.role === 'trait' || r.source.role === 'trait-output';
  const definition = r.source.definition?.split('/').pop();
  const componentType = components.find((c) => c.name === r.source.component)?.type;
  const checks: [string[] | undefined, string | undefined][] = [
    [selector.componentNames, r.source.component],
    [selector.componentTypes, componentType],
    [selector.oamTypes, trait ? 'TRAIT' : 'COMPONENT'],
    [selector.traitTypes, trait ? definition : undefined],
    [selector.resourceTypes, r.object.kind],
    [selector.resourceNames, r.object.metadata.name],
  ];
  return checks.every(([wanted, value]) => !wanted || (value !== undefined && wanted.includes(value)));
}
