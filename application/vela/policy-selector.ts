/**
 * KubeVela's policy rule selectors (`shared-resource`, `garbage-collect` and `apply-once` rules):
 * which objects a rule is about, read — as KubeVela's `ResourcePolicyRuleSelector.Match` reads them —
 * from the object's kind, name and the labels every rendered object carries, so a rule picks a live
 * object the Application no longer renders as well as a rendered one. Every field given must match
 * (a field lists alternatives); a selector with no field matches nothing, as in KubeVela.
 *
 * @example
 *   { resourceTypes: ['ConfigMap'], componentNames: ['config'] } // ConfigMaps of the component "config"
 */
import { LABEL_COMPONENT, LABEL_RESOURCE_TYPE, LABEL_TRAIT_TYPE, LABEL_WORKLOAD_TYPE } from '../../apis/labels.js';
import type { KubeObject } from '../../kube/types.js';
import { isRecord } from '../../lib/is-record.js';

export interface ResourceSelector {
  componentNames?: string[];
  /** The component's type, which KubeVela labels its workload with (`workload.oam.dev/type`). */
  componentTypes?: string[];
  /** `WORKLOAD` (KubeVela's label value; `COMPONENT`, as its docs write it, is the same) or `TRAIT`. */
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

/** Whether `selector` picks `obj` (rendered or live): at least one field given, and every field given matches. */
export function selects(selector: ResourceSelector, obj: KubeObject): boolean {
  const labels = obj.metadata.labels ?? {};
  const oamTypes = selector.oamTypes?.map((t) => (t === 'COMPONENT' ? 'WORKLOAD' : t));
  const checks: [string[] | undefined, string | undefined][] = [
    [selector.componentNames, labels[LABEL_COMPONENT]],
    [selector.componentTypes, labels[LABEL_WORKLOAD_TYPE]],
    [oamTypes, labels[LABEL_RESOURCE_TYPE]],
    [selector.traitTypes, labels[LABEL_TRAIT_TYPE]],
    [selector.resourceTypes, obj.kind],
    [selector.resourceNames, obj.metadata.name],
  ];
  const given = checks.filter(([wanted]) => wanted?.length);
  return given.length > 0 && given.every(([wanted, value]) => !!value && wanted!.includes(value));
}

/** The first of `rules` whose selector picks `obj` (KubeVela: "if one resource is controlled by multiple rules, first rule will be used"). */
export function firstRule<R extends { selector: ResourceSelector }>(rules: R[], obj: KubeObject): R | undefined {
  return rules.find((r) => selects(r.selector, obj));
}
