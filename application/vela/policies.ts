/**
 * An Application's `policies`, as KubeVela defines the built-in ones that make sense on one cluster:
 * `override` (changes components' properties and traits), `garbage-collect`, `apply-once`,
 * `shared-resource` and `topology` (only the local cluster). Any other policy type — KubeVela's
 * multi-cluster ones, or a PolicyDefinition of its own — is refused, naming it (TRL_APP_POLICY).
 */
import type {
  Application,
  ApplicationComponent,
  ApplicationPolicy,
} from '../../apis/generated/core.oam.dev-v1beta1.js';
import { TrellisError } from '../../lib/errors.js';
import { isRecord } from '../../lib/is-record.js';
import { cloneJson } from '../../lib/clone.js';
import { selectorOf, type ResourceSelector } from './policy-selector.js';
import { applyOnceRules, gcRules, policyFailure, type ApplyOnceRule, type GcRule } from './resource-policies.js';

/** The policy types Trellis runs. */
export const SUPPORTED_POLICIES = ['override', 'garbage-collect', 'apply-once', 'shared-resource', 'topology'] as const;

/** What the policies ask of the controller (the render sees only `override`). */
export interface PolicyEffects {
  /** `apply-once` enabled without `rules`: hand edits of any object stand until the Application changes. */
  applyOnce: boolean;
  /** `apply-once` enabled with `rules`: the fields each rule names keep their live values. @default [] */
  applyOnceRules: ApplyOnceRule[];
  /** `garbage-collect` with `keepLegacyResource: true`: what leaves the Application stays in the cluster. */
  keepLegacyResource: boolean;
  /** `garbage-collect` rules: when the objects they pick are deleted. @default [] (onAppUpdate) */
  gcRules: GcRule[];
  /**
   * `shared-resource` rules' selectors: a selected object another Application made is shared (this
   * Application recorded as a sharer), not refused. @default [] (nothing shared)
   */
  shared: ResourceSelector[];
}

/** `Application/<ns>/<name>`, how errors name an Application. */
export function applicationId(app: Application): string {
  return `Application/${app.metadata.namespace ?? 'default'}/${app.metadata.name ?? '<unnamed>'}`;
}

/** Checks every policy and says what the controller must do; throws TRL_APP_POLICY for one Trellis cannot honour. */
export function policyEffects(app: Application): PolicyEffects {
  const effects: PolicyEffects = {
    applyOnce: false,
    applyOnceRules: [],
    keepLegacyResource: false,
    gcRules: [],
    shared: [],
  };
  for (const [i, policy] of (app.spec.policies ?? []).entries()) {
    const field = `spec.policies[${i}]`;
    const props = isRecord(policy.properties) ? policy.properties : {};
    const fail = policyFailure(applicationId(app), policy.name);
    switch (policy.type) {
      case 'override':
        break;
      case 'shared-resource':
        effects.shared.push(...(Array.isArray(props.rules) ? props.rules : []).map(selectorOf));
        break;
      case 'apply-once': {
        // KubeVela: enabled without rules, every object; with rules (even none), only what they pick.
        const rules = applyOnceRules(props.rules, `${field}.properties.rules`, fail);
        if (props.enable !== true) break;
        if (props.rules === undefined) effects.applyOnce = true;
        else effects.applyOnceRules.push(...rules);
        break;
      }
      case 'garbage-collect':
        effects.keepLegacyResource = props.keepLegacyResource === true;
        effects.gcRules.push(...gcRules(props.rules, `${field}.properties.rules`, fail));
        break;
      case 'topology':
        checkLocalTopology(app, policy, props, field);
        break;
      default:
        throw new TrellisError(
          'TRL_APP_POLICY',
          `policy "${policy.name}" has type "${policy.type}", which Trellis does not run: it runs ${SUPPORTED_POLICIES.join(', ')} (topology on the local cluster only); nothing of the Application was applied`,
          { object: applicationId(app), field: `${field}.type` },
        );
    }
  }
  return effects;
}

function checkLocalTopology(
  app: Application,
  policy: ApplicationPolicy,
  props: Record<string, unknown>,
  field: string,
): void {
  const clusters = Array.isArray(props.clusters) ? props.clusters : [];
  const elsewhere = clusters.filter((c) => c !== 'local');
  if (elsewhere.length || props.clusterLabelSelector !== undefined || props.clusterSelector !== undefined) {
    const which = elsewhere.length
      ? `clusters ${elsewhere.map((c) => JSON.stringify(c)).join(', ')}`
      : 'a cluster selector';
    throw new TrellisError(
      'TRL_APP_POLICY',
      `topology policy "${policy.name}" names ${which}: Trellis deploys to the cluster it runs in only ("local"); nothing of the Application was applied`,
      { object: applicationId(app), field: `${field}.properties` },
    );
  }
  const namespace = props.namespace;
  if (typeof namespace === 'string' && namespace !== (app.metadata.namespace ?? 'default')) {
    throw new TrellisError(
      'TRL_APP_POLICY',
      `topology policy "${policy.name}" deploys to namespace "${namespace}": Trellis deploys an Application's objects into its own namespace only`,
      { object: applicationId(app), field: `${field}.properties.namespace` },
    );
  }
}

interface OverrideComponent {
  name?: string;
  type?: string;
  properties?: Record<string, unknown>;
  traits?: { type: string; properties?: Record<string, unknown>; disable?: boolean }[];
}

/**
 * The components after `override` policies (in order), as KubeVela applies them: a matching
 * component (by `name`, or `type`, or every one selected) gets the policy's properties merged in,
 * its traits merged by type (a new type appended, `disable: true` removes it).
 *
 * @param names the override policies to apply; @default every override policy of the Application
 */
export function applyOverrides(app: Application, names?: string[]): ApplicationComponent[] {
  let components = cloneJson(app.spec.components);
  for (const policy of app.spec.policies ?? []) {
    if (policy.type !== 'override' || (names && !names.includes(policy.name))) continue;
    const props = isRecord(policy.properties) ? policy.properties : {};
    const selector = Array.isArray(props.selector) ? (props.selector as string[]) : undefined;
    const overrides = (Array.isArray(props.components) ? props.components : []) as OverrideComponent[];
    components = components.map((c) => {
      if (selector && !selector.includes(c.name)) return c;
      return overrides.reduce((acc, o) => (matches(o, acc) ? overridden(acc, o) : acc), c);
    });
    if (selector) components = components.filter((c) => selector.includes(c.name));
  }
  return components;
}

const matches = (o: OverrideComponent, c: ApplicationComponent) =>
  (o.name === undefined || o.name === '*' || o.name === c.name) && (o.type === undefined || o.type === c.type);

function overridden(c: ApplicationComponent, o: OverrideComponent): ApplicationComponent {
  const properties = o.properties ? mergeDeep(c.properties ?? {}, o.properties) : c.properties;
  let traits = [...(c.traits ?? [])];
  for (const t of o.traits ?? []) {
    const at = traits.findIndex((x) => x.type === t.type);
    if (t.disable) traits = traits.filter((x) => x.type !== t.type);
    else if (at < 0) traits.push({ type: t.type, ...(t.properties ? { properties: t.properties } : {}) });
    else traits[at] = { ...traits[at], properties: mergeDeep(traits[at].properties ?? {}, t.properties ?? {}) };
  }
  return { ...c, ...(properties ? { properties } : {}), ...(o.traits ? { traits } : {}) };
}

/** Objects merged key by key; anything else (lists included) replaced, as a JSON merge patch does. */
function mergeDeep(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch))
    out[k] = isRecord(v) && isRecord(out[k]) ? mergeDeep(out[k] as Record<string, unknown>, v) : v;
  return out;
}
