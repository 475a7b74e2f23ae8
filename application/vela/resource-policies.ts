/**
 * The per-object rules of KubeVela's `garbage-collect` and `apply-once` policies: which objects
 * (a {@link ResourceSelector}, the first rule that picks an object decides) are recycled when, and
 * which of their fields are not applied again once they exist (configuration drift allowed).
 *
 * @example
 *   // garbage-collect: the ConfigMaps stay when the Application stops rendering them, and when it is deleted
 *   { rules: [{ selector: { resourceTypes: ['ConfigMap'] }, strategy: 'never' }] }
 *   // apply-once: spec.replicas is whatever an HPA set, once the Deployment exists
 *   { enable: true, rules: [{ selector: { resourceTypes: ['Deployment'] }, strategy: { path: ['spec.replicas'] } }] }
 */
import type { KubeObject } from '../../kube/types.js';
import { cloneJson } from '../../lib/clone.js';
import { TrellisError } from '../../lib/errors.js';
import { deleteFieldPath, getFieldPath, parseFieldPath, setFieldPath, type PathSegment } from '../../lib/fieldpath.js';
import { isRecord } from '../../lib/is-record.js';
import { firstRule, selectorOf, type ResourceSelector } from './policy-selector.js';

/** When an object picked by a `garbage-collect` rule is deleted. @default onAppUpdate */
export const GC_STRATEGIES = ['onAppUpdate', 'onAppDelete', 'never'] as const;
export type GcStrategy = (typeof GC_STRATEGIES)[number];

export interface GcRule {
  selector: ResourceSelector;
  /**
   * `onAppUpdate`: deleted once the Application no longer renders it (as without a rule);
   * `onAppDelete`: kept while the Application lives, deleted with it; `never`: never deleted by
   * Trellis, not even with the Application (applied without its controller owner reference).
   */
  strategy: GcStrategy;
}

/** When an `apply-once` rule's paths keep the live values: on an Application update, on the re-applies between, or both. */
export const APPLY_ONCE_AFFECTS = ['onUpdate', 'onStateKeep', 'always'] as const;
export type ApplyOnceAffect = (typeof APPLY_ONCE_AFFECTS)[number];

/** Which phase an apply is in: the Application changed and its workflow is not done (`onUpdate`), or it keeps state. */
export type ApplyStage = 'onUpdate' | 'onStateKeep';

export interface ApplyOnceRule {
  selector: ResourceSelector;
  /** Field paths (`spec.replicas`, `spec.template.spec.containers[0].resources`) or `*` (the whole object). */
  paths: PathSegment[][] | '*';
  /** @default always */
  affect: ApplyOnceAffect;
}

type Fail = (field: string, why: string) => never;

/** The rules of a `garbage-collect` policy's `properties.rules` (`field` names it in errors). */
export function gcRules(rules: unknown, field: string, fail: Fail): GcRule[] {
  return listOf(rules, field, fail).map((rule, j) => {
    const strategy = isRecord(rule) ? (rule.strategy ?? 'onAppUpdate') : undefined;
    if (!GC_STRATEGIES.includes(strategy as GcStrategy))
      fail(`${field}[${j}].strategy`, `${JSON.stringify(strategy)} is not one of ${GC_STRATEGIES.join(', ')}`);
    return { selector: selectorOf(rule), strategy: strategy as GcStrategy };
  });
}

/** The rules of an `apply-once` policy's `properties.rules`, each with its `strategy.path` and `strategy.affect`. */
export function applyOnceRules(rules: unknown, field: string, fail: Fail): ApplyOnceRule[] {
  return listOf(rules, field, fail).map((rule, j) => {
    const at = `${field}[${j}]`;
    if (isRecord(rule) && rule.path !== undefined && rule.strategy === undefined)
      fail(`${at}.path`, `KubeVela reads the paths from ${at}.strategy.path (the rule has no field "path")`);
    const strategy = isRecord(rule) && isRecord(rule.strategy) ? rule.strategy : fail(`${at}.strategy`, 'is required');
    const affect = strategy.affect ?? 'always';
    if (affect !== '' && !APPLY_ONCE_AFFECTS.includes(affect as ApplyOnceAffect))
      fail(`${at}.strategy.affect`, `${JSON.stringify(affect)} is not one of ${APPLY_ONCE_AFFECTS.join(', ')}`);
    const raw = Array.isArray(strategy.path) ? strategy.path : fail(`${at}.strategy.path`, 'must be a list of paths');
    const paths = raw.includes('*')
      ? ('*' as const)
      : raw.map((p, k) => {
          try {
            if (typeof p !== 'string') throw new Error('not a string');
            return parseFieldPath(quoteKeys(p));
          } catch (err) {
            return fail(
              `${at}.strategy.path[${k}]`,
              `${JSON.stringify(p)} is not a field path: ${(err as Error).message}`,
            );
          }
        });
    return { selector: selectorOf(rule), paths, affect: (affect || 'always') as ApplyOnceAffect };
  });
}

/** The strategy of the first `garbage-collect` rule picking `obj`. @default onAppUpdate */
export function gcStrategy(rules: GcRule[], obj: KubeObject): GcStrategy {
  return firstRule(rules, obj)?.strategy ?? 'onAppUpdate';
}

/**
 * `desired` as it is applied under the apply-once rules, KubeVela's `ApplyStrategies`: when the first
 * rule picking it affects this `stage` and the object exists (`live`), the value at each of the rule's
 * paths is the live one (a path the live object lacks is left out, so it is not put back); `keep` when
 * the rule's path is `*` (nothing of it is applied again). Otherwise `desired` unchanged.
 */
export function applyOnce(
  rules: ApplyOnceRule[],
  desired: KubeObject,
  live: KubeObject | undefined,
  stage: ApplyStage,
): { object: KubeObject; keep: boolean } {
  const rule = firstRule(rules, desired);
  if (!rule || !live || (rule.affect !== 'always' && rule.affect !== stage)) return { object: desired, keep: false };
  if (rule.paths === '*') return { object: desired, keep: true };
  const object = cloneJson(desired);
  for (const path of rule.paths) {
    const value = getFieldPath(live, path);
    if (value === undefined) deleteFieldPath(object, path);
    else setFieldPath(object, path, cloneJson(value));
  }
  return { object, keep: false };
}

function listOf(rules: unknown, field: string, fail: Fail): unknown[] {
  if (rules === undefined) return [];
  return Array.isArray(rules) ? rules : fail(field, 'must be a list of rules');
}

/** crossplane's fieldpath takes `metadata.labels[app.oam.dev/name]` unquoted; lib/fieldpath wants the key quoted. */
function quoteKeys(path: string): string {
  return path.replace(/\[([^\]"'\d][^\]]*)\]/g, (_m, key: string) => `[${JSON.stringify(key)}]`);
}

/** A TRL_APP_POLICY error naming `object` and the field, for {@link gcRules} / {@link applyOnceRules}. */
export function policyFailure(object: string, policy: string): Fail {
  return (field, why) => {
    throw new TrellisError('TRL_APP_POLICY', `policy "${policy}": ${why}; nothing of the Application was applied`, {
      object,
      field,
    });
  };
}
