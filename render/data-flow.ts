/**
 * dataOutputs / dataInputs (DESIGN.md §4.7). Render checks the declarations (every input has a
 * source, no cycles); the controller decides when a consumer is held back, with
 * {@link evaluateDataOutput} on the live source object, and writes the value with
 * {@link writeDataInput}.
 */
import type { ConditionRequirement, DataInput, DataOutput } from '../apis/generated/core.oam.dev-v1alpha2.js';
import { TrellisError } from '../lib/errors.js';
import { getFieldPath, setFieldPath } from '../lib/fieldpath.js';
import type { RenderedComponent } from './types.js';
import { cloneJson } from '../lib/clone.js';

/** What the data-flow check reads of a component: available before rendering. */
export type DataDeclarations = Pick<RenderedComponent, 'name' | 'index' | 'dataOutputs' | 'dataInputs'> & {
  traits: Pick<RenderedComponent['traits'][number], 'name' | 'index' | 'dataOutputs' | 'dataInputs'>[];
};

/** A workload (`component "web"`) or a trait (`trait "web-scaler" of component "web"`) that declares data. */
interface Node {
  id: string;
  label: string;
  field: string;
  outputs: DataOutput[];
  inputs: DataInput[];
}

function nodesOf(components: DataDeclarations[]): Node[] {
  return components.flatMap((c) => [
    {
      id: c.name,
      label: `component "${c.name}"`,
      field: `spec.components[${c.index}]`,
      outputs: c.dataOutputs,
      inputs: c.dataInputs,
    },
    ...c.traits.map((t) => ({
      id: `${c.name}/${t.name}`,
      label: `trait "${t.name}" of component "${c.name}"`,
      field: `spec.components[${c.index}].traits[${t.index}]`,
      outputs: t.dataOutputs,
      inputs: t.dataInputs,
    })),
  ]);
}

/**
 * Throws TRL_RENDER_DATA_DANGLING for a dataInput whose `dataOutputName` no dataOutput declares,
 * TRL_RENDER_DATA_DUPLICATE for two dataOutputs of one name, TRL_RENDER_DATA_CYCLE when inputs
 * depend on each other in a circle (nothing could ever be created).
 */
export function checkDataFlow(components: DataDeclarations[], object: string): void {
  if (
    !components.some(
      (c) =>
        c.dataOutputs.length ||
        c.dataInputs.length ||
        c.traits.some((t) => t.dataOutputs.length || t.dataInputs.length),
    )
  )
    return;
  const nodes = nodesOf(components);
  const producer = new Map<string, Node>();
  for (const node of nodes) {
    node.outputs.forEach((out, i) => {
      if (!out.name) return;
      const other = producer.get(out.name);
      if (other)
        throw new TrellisError(
          'TRL_RENDER_DATA_DUPLICATE',
          `dataOutput "${out.name}" is declared by both ${other.label} and ${node.label}`,
          { object, field: `${node.field}.dataOutputs[${i}].name` },
        );
      producer.set(out.name, node);
    });
  }
  const edges = new Map<string, Node[]>();
  for (const node of nodes) {
    node.inputs.forEach((input, i) => {
      const name = input.valueFrom?.dataOutputName;
      if (!name && input.inputStore) return; // reads a store object only: no producer to name
      const from = name ? producer.get(name) : undefined;
      if (!from) {
        const known = [...producer.keys()];
        throw new TrellisError(
          'TRL_RENDER_DATA_DANGLING',
          `${node.label} takes dataOutput "${name ?? ''}", which nothing declares${known.length ? ` (declared: ${known.join(', ')})` : ''}`,
          {
            object,
            field: `${node.field}.dataInputs[${i}].valueFrom.dataOutputName`,
          },
        );
      }
      edges.set(node.id, [...(edges.get(node.id) ?? []), from]);
    });
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const visit = (node: Node, trail: Node[]): void => {
    if (state.get(node.id) === 'done') return;
    if (state.get(node.id) === 'visiting') {
      const cycle = [...trail.slice(trail.findIndex((n) => n.id === node.id)), node];
      throw new TrellisError(
        'TRL_RENDER_DATA_CYCLE',
        `data inputs form a cycle: ${cycle.map((n) => n.label).join(' takes from ')}`,
        { object, field: `${cycle[0].field}.dataInputs` },
      );
    }
    state.set(node.id, 'visiting');
    for (const next of edges.get(node.id) ?? []) visit(byId.get(next.id)!, [...trail, node]);
    state.set(node.id, 'done');
  };
  for (const node of nodes) visit(node, []);
}

/** Whether a value counts as empty: missing, `''`, `[]`, `{}` or null. */
export function isEmptyValue(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return false;
}

const asText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

export interface DataOutputState {
  /** The value may be passed on. */
  ready: boolean;
  /** The value at the output's fieldPath (when present). */
  value?: unknown;
  /** Why it is not ready, for `status.dependency.unsatisfied[].reason`. */
  reason?: string;
}

/**
 * Whether a dataOutput of the (live) source object is ready: its field present and non-empty, and
 * every condition holding. A dataOutput without `fieldPath` is an ordering-only dependency (ready
 * once the source exists and its conditions hold; nothing is written into the consumer).
 * Conditions compare as text: `eq`/`notEq` against `value` or, as upstream does, the value at
 * `valueFrom.fieldPath` of the AppConfig; `notEmpty`. A condition's own `fieldPath` picks another
 * field of the source to check.
 */
export function evaluateDataOutput(source: unknown, output: DataOutput, appConfig?: unknown): DataOutputState {
  const path = output.fieldPath;
  if (!path) {
    const failed = (output.conditions ?? [])
      .map((c) => conditionFails(source, c, undefined, undefined, appConfig))
      .find(Boolean);
    return failed ? { ready: false, reason: failed } : { ready: true };
  }
  const value = getFieldPath(source, path);
  if (value === undefined) return { ready: false, reason: `${path} is not set yet` };
  if (isEmptyValue(value)) return { ready: false, value, reason: `${path} is empty` };
  for (const cond of output.conditions ?? []) {
    const failed = conditionFails(source, cond, value, path, appConfig);
    if (failed) return { ready: false, value, reason: failed };
  }
  return { ready: true, value };
}

/**
 * `dataInputs[].conditions`, as upstream checks them: on the consumer's own live object, before
 * its inputs are written again (a consumer that does not exist yet passes). Each condition names
 * the consumer's field to check.
 */
export function evaluateInputConditions(consumer: unknown, input: DataInput, appConfig?: unknown): DataOutputState {
  if (consumer === undefined || !input.conditions?.length) return { ready: true };
  const failed = input.conditions
    .map((c) => conditionFails(consumer, c, undefined, undefined, appConfig))
    .find(Boolean);
  return failed ? { ready: false, reason: `dataInputs conditions: ${failed}` } : { ready: true };
}

/** Why a condition does not hold, or undefined when it does. */
export function conditionFails(
  source: unknown,
  cond: ConditionRequirement,
  outputValue: unknown,
  outputPath: string | undefined,
  appConfig?: unknown,
): string | undefined {
  const path = cond.fieldPath || outputPath;
  if (!path) return `condition ${cond.op} names no fieldPath to check`;
  const checked = cond.fieldPath ? getFieldPath(source, cond.fieldPath) : outputValue;
  if (cond.op === 'notEmpty') return isEmptyValue(checked) ? `${path} is empty` : undefined;
  const expected =
    cond.value !== undefined
      ? cond.value
      : cond.valueFrom?.fieldPath
        ? getFieldPath(appConfig, cond.valueFrom.fieldPath)
        : undefined;
  if (expected === undefined)
    return `condition ${cond.op} on ${path} has nothing to compare with${cond.valueFrom?.fieldPath ? ` (the AppConfig has no ${cond.valueFrom.fieldPath})` : ''}`;
  const same = checked !== undefined && asText(checked) === asText(expected);
  if (cond.op === 'eq' && !same)
    return `${path} is ${checked === undefined ? 'not set' : JSON.stringify(checked)}, waiting for ${JSON.stringify(expected)}`;
  if (cond.op === 'notEq' && same) return `${path} is ${JSON.stringify(checked)}, waiting for it to change`;
  return undefined;
}

/**
 * Writes a ready dataOutput's value into the consumer at each of the input's `toFieldPaths` (in
 * place). An array is appended to the array already there, as upstream does (the consumer as
 * rendered, so passing the value again does not append twice); anything else replaces it.
 */
export function writeDataInput(consumer: Record<string, unknown>, input: DataInput, value: unknown): void {
  for (const path of input.toFieldPaths ?? []) {
    const existing = Array.isArray(value) ? getFieldPath(consumer, path) : undefined;
    setFieldPath(
      consumer,
      path,
      Array.isArray(existing) && Array.isArray(value)
        ? [...(existing as unknown[]), ...cloneJson(value)]
        : cloneJson(value),
    );
  }
}
