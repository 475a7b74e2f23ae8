import { appliesTo, findConflict } from '../bind/index.js';
import { builtinParameterSchema, guessResourceName, isScalableKind } from '../definitions/index.js';
import { groupOf } from '../lib/api-version.js';
import { setFieldPath, type PathSegment } from '../lib/fieldpath.js';
import {
  findPodTemplate,
  fixedReference,
  fixedString,
  mayWrite,
  pathsOverlap,
  planApplication,
  unknownProperties,
  type ApplicationPlan,
  type RenderInput,
  type StructShape,
} from '../render/index.js';
import { propertiesMatch } from './rules/properties.js';
import type { TemplateFacts, TemplateFactsCache } from './template-facts.js';
import { isRecord } from '../lib/is-record.js';

/**
 * `admit`: rendering would succeed as far as admission can tell. Otherwise why it cannot tell (render
 * to know), and the templates rendering would evaluate (to record once a render succeeded).
 */
export type QuickVerdict = { admit: true } | { admit: false; unsure: string; templates: string[] };

export interface QuickAdmissionInput extends Omit<RenderInput, 'live'> {
  facts: TemplateFactsCache;
}

type Entry = ApplicationPlan['entries'][number];
interface ObjectId {
  apiVersion: string;
  kind: string;
  name: string;
}

/** `context` fields render gives every workload template, whatever the inputs (plain strings). */
const WORKLOAD_CONTEXT = new Set(['name', 'namespace', 'appName', 'componentName', 'revision']);
/** … and every trait template; `output`, `outputs` and `podTemplate` depend on the workload rendered. */
const TRAIT_CONTEXT = new Set([...WORKLOAD_CONTEXT, 'traitName']);

class Unsure extends Error {}
const unsure = (why: string): never => {
  throw new Unsure(why);
};

/**
 * Decides whether an ApplicationConfiguration renders and binds without running CUE: render/'s plan
 * (Components, parameters, definitions, data flow — no CUE), then each template's properties against
 * its parameter's JSON Schema and the facts of what it sets (template-facts.ts), then bind/'s checks
 * (appliesToWorkloads, conflictsWith, `spec.replicas`, pod template, patches meeting, names) on
 * those facts. Sound, not complete: whatever the facts do not settle (a schema CUE cannot express,
 * a template reading the workload, a trait rendering objects, patches that may meet, a failure) is
 * `unsure`, and the caller renders — which also gives the denial its exact message.
 *
 * What it cannot see is a template failing for valid properties in a way its parameter's schema
 * does not express (a constraint on an output field); the controller's render reports that.
 */
export async function quickAdmission(input: QuickAdmissionInput): Promise<QuickVerdict> {
  let plan: ApplicationPlan;
  try {
    plan = await planApplication(input);
  } catch {
    return { admit: false, unsure: 'the plan fails', templates: [] };
  }
  try {
    const objects: ObjectId[] = [];
    for (const entry of plan.entries) objects.push(...(await checkEntry(entry, input)));
    const seen = new Set<string>();
    for (const o of objects) {
      const key = `${groupOf(o.apiVersion)}/${o.kind}/${o.name}`;
      if (seen.has(key)) unsure(`two objects ${key}`);
      seen.add(key);
    }
    return { admit: true };
  } catch (err) {
    if (err instanceof Unsure) return { admit: false, unsure: err.message, templates: templatesOf(plan) };
    throw err;
  }
}

/** The objects the entry renders (kinds and names), once every check on it passed. */
async function checkEntry(entry: Entry, input: QuickAdmissionInput): Promise<ObjectId[]> {
  if (entry.traits.some((t) => t.resolved.definition?.spec?.revisionEnabled))
    unsure('a revisionEnabled trait names the workload');
  const w = await workloadFacts(entry, input);
  const resource = await input.definitions.resourceByKind(w.object.apiVersion, w.object.kind);
  const identity = {
    type: entry.workload.type,
    apiVersion: w.object.apiVersion,
    kind: w.object.kind,
    resourceName: resource?.name ?? guessResourceName(w.object.apiVersion, w.object.kind),
  };
  const objects = [w.object, ...w.outputs];
  const patches: PathSegment[][][] = [];
  for (const t of entry.traits) {
    const { resolved } = t;
    if (!appliesTo(resolved.definition, identity)) unsure(`trait ${t.name} may not apply`);
    if (resolved.mode !== 'template') {
      const { apiVersion, kind } = resolved.object;
      if (typeof apiVersion !== 'string' || typeof kind !== 'string') return unsure(`trait ${t.name} has no kind`);
      if (kind === 'HorizontalPodAutoscaler') unsure('an HPA takes spec.replicas over');
      if (isRecord(resolved.object.metadata) && resolved.object.metadata.namespace !== undefined)
        unsure(`trait ${t.name} names a namespace`);
      const refPath = resolved.definition?.spec?.workloadRefPath;
      if (refPath) {
        try {
          setFieldPath(structuredClone(resolved.object), refPath, {});
        } catch {
          unsure(`trait ${t.name}'s workloadRefPath`);
        }
      }
      objects.push({ apiVersion, kind, name: t.name });
      continue;
    }
    const facts = await templateChecked(resolved.template, resolved.properties, TRAIT_CONTEXT, input);
    if (mayWrite(facts.shape, ['output']).length || mayWrite(facts.shape, ['outputs']).length)
      unsure(`trait ${t.name} renders objects`);
    const paths = mayWrite(facts.shape, ['patch']);
    if (paths.some((p) => !p.length)) unsure(`trait ${t.name} may patch anything`);
    if (pathsOverlap(paths, [['spec', 'replicas']]) && !w.replicas) unsure(`trait ${t.name} sets spec.replicas`);
    if (pathsOverlap(paths, [['spec', 'template']]) && !w.podTemplate)
      unsure(`trait ${t.name} patches the pod template`);
    if (patches.some((other) => pathsOverlap(other, paths))) unsure(`trait ${t.name}'s patch may meet another's`);
    patches.push(paths);
  }
  if (
    findConflict(
      entry.traits.map((t) => ({
        name: t.name,
        type: t.resolved.type,
        ...(t.resolved.definition ? { definition: t.resolved.definition } : {}),
      })),
    )
  )
    unsure('conflicting traits');
  return objects;
}

interface WorkloadFacts {
  object: ObjectId;
  outputs: ObjectId[];
  /** The workload has `spec.replicas` (known). */
  replicas: boolean;
  /** The workload's pod template is known to be there. */
  podTemplate: boolean;
}

async function workloadFacts(entry: Entry, input: QuickAdmissionInput): Promise<WorkloadFacts> {
  const { workload, componentName } = entry;
  const podSpecPath = workload.definition?.spec?.podSpecPath;
  if (workload.mode !== 'template') {
    const o = workload.object;
    if (typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') return unsure('the workload has no kind');
    if (isRecord(o.metadata) && o.metadata.namespace !== undefined) unsure('the workload names a namespace');
    const written = isRecord(o.metadata) && typeof o.metadata.name === 'string' ? o.metadata.name : '';
    const spec = isRecord(o.spec) ? o.spec : {};
    return {
      object: { apiVersion: o.apiVersion, kind: o.kind, name: written || componentName },
      outputs: [],
      replicas: spec.replicas !== undefined || isScalableKind(o.apiVersion, o.kind),
      podTemplate: !!findPodTemplate(o, podSpecPath),
    };
  }
  const facts = await templateChecked(workload.template, workload.properties, WORKLOAD_CONTEXT, input);
  const object = objectFacts(facts.shape, ['output'], componentName, componentName);
  return {
    object,
    outputs: outputsFacts(facts.shape, object.name, componentName),
    replicas: isScalableKind(object.apiVersion, object.kind),
    podTemplate: !!podSpecPath && !!findPodTemplate({}, podSpecPath),
  };
}

/** The template's facts, once its properties passed every check render makes before CUE and its parameter's schema. */
async function templateChecked(
  template: string,
  properties: Record<string, unknown>,
  context: Set<string>,
  input: QuickAdmissionInput,
): Promise<TemplateFacts> {
  const facts = await input.facts.of(template);
  if (!facts.rendered) unsure('the template has not rendered here yet');
  if (!facts.schema) unsure('no parameter schema');
  if (facts.reads === 'all' || [...facts.reads].some((r) => !context.has(r)))
    unsure('the template reads what the inputs decide');
  const builtin = builtinParameterSchema(template);
  if (builtin && unknownProperties(builtin, properties).length) unsure('unknown properties');
  if (!propertiesMatch(properties, facts.schema!)) unsure('properties do not match the schema');
  return facts;
}

/** Kind and name of the object a template sets at `path`, when fixed; `contextName` is what `context.name` is. */
function objectFacts(shape: StructShape, path: string[], defaultName: string, contextName: string): ObjectId {
  const apiVersion = fixedString(shape, [...path, 'apiVersion']);
  const kind = fixedString(shape, [...path, 'kind']);
  if (!apiVersion || !kind) return unsure(`${path.join('.')} has no fixed kind`);
  // A second, conditional contribution (`if x { output: kind: "StatefulSet" }`) would be a conflict.
  if (mayWrite(shape, [...path, 'apiVersion']).length !== 1 || mayWrite(shape, [...path, 'kind']).length !== 1)
    return unsure(`${path.join('.')} may be given another kind`);
  // Another namespace is refused by render unless the definition allows it: let render decide (and word it).
  if (mayWrite(shape, [...path, 'metadata', 'namespace']).length)
    return unsure(`${path.join('.')} may set its namespace`);
  const name = [...path, 'metadata', 'name'];
  if (!mayWrite(shape, name).length) return { apiVersion, kind, name: defaultName };
  const literal = fixedString(shape, name);
  if (literal) return { apiVersion, kind, name: literal };
  if (fixedReference(shape, name) === 'context.name') return { apiVersion, kind, name: contextName };
  return unsure(`${path.join('.')} has no fixed name`);
}

/** Each of the workload's `outputs` (named `<workload>-<key>` unless it names itself). */
function outputsFacts(shape: StructShape, workloadName: string, contextName: string): ObjectId[] {
  if (!mayWrite(shape, ['outputs']).length) return [];
  if (shape.open) unsure('the template may set outputs');
  const keys = new Set<string>();
  for (const v of shape.fields.get('outputs') ?? []) {
    if (!('struct' in v) || v.struct.open) unsure('outputs not read');
    else for (const key of v.struct.fields.keys()) keys.add(key);
  }
  return [...keys].map((key) => objectFacts(shape, ['outputs', key], `${workloadName}-${key}`, contextName));
}

/** The templates rendering the plan evaluates. */
function templatesOf(plan: ApplicationPlan): string[] {
  return plan.entries
    .flatMap((e) => [e.workload, ...e.traits.map((t) => t.resolved)])
    .flatMap((r) => (r.mode === 'template' ? [r.template] : []));
}
