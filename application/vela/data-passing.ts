/**
 * KubeVela's data passing between components: a component's `outputs: [{name, valueFrom}]` — a CUE
 * expression over `output`, its workload as it is in the cluster (status included), and `outputs`,
 * its other objects by key (`valueFrom: output.metadata.name + ".default.svc.cluster.local"`, or a
 * plain string) — and another component's `inputs: [{from, parameterKey}]`, which sets the named
 * output's value into its properties (`parameterKey: properties.env[0].value`; the `properties.`
 * prefix is optional, as in KubeVela's older docs). A component with an input is not rendered until
 * every one of its inputs has a value: it waits (the workflow says for what), as in KubeVela.
 */
import type { Application, ApplicationComponent } from '../../apis/generated/core.oam.dev-v1beta1.js';
import { CueError, describeIssues, type CueEngine } from '../../cue/index.js';
import type { KubeObject } from '../../kube/types.js';
import { cloneJson } from '../../lib/clone.js';
import { TrellisError } from '../../lib/errors.js';
import { parseFieldPath, setFieldPath } from '../../lib/fieldpath.js';
import { isRecord } from '../../lib/is-record.js';
import { contextFor } from '../../render/index.js';
import type { BoundApplication, LiveObjects, RenderedObject } from '../../render/types.js';
import { applicationId } from './policies.js';

/** A component not rendered yet: one of its inputs has no value. */
export interface PendingInput {
  component: string;
  /** The output it waits for, and the component producing it. */
  from: string;
  producer: string;
  /** Why there is no value yet (the producer is not rendered or not in the cluster yet, or its expression is incomplete). */
  reason: string;
}

/** Which component produces each output name; throws naming the field for an input no component produces. */
export function producers(app: Application, components: ApplicationComponent[]): Map<string, string> {
  const byOutput = new Map<string, string>();
  for (const c of components) for (const o of c.outputs ?? []) if (o.name) byOutput.set(o.name, c.name);
  for (const [i, c] of app.spec.components.entries()) {
    for (const [j, input] of (c.inputs ?? []).entries()) {
      const field = `spec.components[${i}].inputs[${j}]`;
      const producer = input.from ? byOutput.get(input.from) : undefined;
      if (!producer || !input.parameterKey)
        throw new TrellisError(
          'TRL_APP_COMPONENT',
          !input.parameterKey
            ? `component "${c.name}": input from "${input.from ?? ''}" has no parameterKey (where in the properties its value goes)`
            : `component "${c.name}" takes input "${input.from ?? ''}", which no component's outputs name${
                byOutput.size ? ` (outputs: ${[...byOutput.keys()].join(', ')})` : ''
              }`,
          { object: applicationId(app), field: `${field}.${!input.parameterKey ? 'parameterKey' : 'from'}` },
        );
      if (producer === c.name)
        throw new TrellisError('TRL_APP_COMPONENT', `component "${c.name}" takes its own output "${input.from}"`, {
          object: applicationId(app),
          field: `${field}.from`,
        });
    }
  }
  return byOutput;
}

/**
 * The components whose inputs all have values, with those values set into their properties; the
 * others left out and listed as pending. Components keep their order.
 */
export function withInputs(
  components: ApplicationComponent[],
  values: Map<string, unknown>,
  byOutput: Map<string, string>,
): { components: ApplicationComponent[]; pending: PendingInput[] } {
  const pending: PendingInput[] = [];
  const ready: ApplicationComponent[] = [];
  for (const c of components) {
    const missing = (c.inputs ?? []).filter((i) => !values.has(i.from!));
    if (missing.length) {
      for (const i of missing)
        pending.push({
          component: c.name,
          from: i.from!,
          producer: byOutput.get(i.from!)!,
          reason: `component "${byOutput.get(i.from!)}" is not rendered yet`,
        });
      continue;
    }
    if (!c.inputs?.length) {
      ready.push(c);
      continue;
    }
    const properties = cloneJson(c.properties ?? {});
    for (const i of c.inputs) setFieldPath(properties, parameterPath(i.parameterKey!), cloneJson(values.get(i.from!)));
    ready.push({ ...c, properties });
  }
  return { components: ready, pending };
}

/** `properties.a.b[0]` / `a.b[0]` → the path inside the component's properties. */
function parameterPath(key: string): ReturnType<typeof parseFieldPath> {
  const path = parseFieldPath(key);
  return path[0] === 'properties' && path.length > 1 ? path.slice(1) : path;
}

/**
 * The values of the rendered components' `outputs`, from their objects as they are in the cluster.
 * An output whose workload is not in the cluster yet, or whose expression reads a field that is not
 * there yet, has no value (its reason is in `reasons`). An expression that does not compile throws,
 * naming `spec.components[i].outputs[j].valueFrom`.
 */
export async function outputValues(
  app: Application,
  components: ApplicationComponent[],
  bound: BoundApplication,
  live: LiveObjects | undefined,
  engine: CueEngine,
): Promise<{ values: Map<string, unknown>; reasons: Map<string, string> }> {
  const values = new Map<string, unknown>();
  const reasons = new Map<string, string>();
  const get = (o: RenderedObject) =>
    live?.({ apiVersion: o.object.apiVersion, kind: o.object.kind, name: o.object.metadata.name! });
  for (const c of components) {
    if (!c.outputs?.length) continue;
    const rendered = bound.components.find((r) => r.name === c.name);
    const output = rendered ? get(rendered.workload) : undefined;
    if (!rendered || !output) {
      for (const o of c.outputs) reasons.set(o.name!, `component "${c.name}"'s workload is not in the cluster yet`);
      continue;
    }
    const outputs: Record<string, KubeObject> = {};
    for (const o of [...rendered.outputs, ...rendered.traits.flatMap((t) => t.outputs)]) {
      const l = get(o);
      if (l) outputs[o.source.output ?? o.object.metadata.name!] = l;
    }
    const i = app.spec.components.findIndex((x) => x.name === c.name);
    for (const [j, o] of c.outputs.entries()) {
      const field = `spec.components[${i}].outputs[${j}].valueFrom`;
      const result = await valueOf(engine, o.valueFrom ?? '', output, outputs, { object: applicationId(app), field });
      if ('value' in result) values.set(o.name!, result.value);
      else
        reasons.set(
          o.name!,
          `output "${o.name}" of component "${c.name}" has no value yet (valueFrom: ${o.valueFrom}): ${result.pending}`,
        );
    }
  }
  return { values, reasons };
}

/** A bare word that CUE cannot resolve is the string itself (KubeVela: `valueFrom: testString`). */
const BARE_WORD = /^[A-Za-z_$][\w$-]*$/;

async function valueOf(
  engine: CueEngine,
  expression: string,
  output: KubeObject,
  outputs: Record<string, KubeObject>,
  where: { object: string; field: string },
): Promise<{ value: unknown } | { pending: string }> {
  const template = `output: context.output\noutputs: context.outputs\nvalue: ${expression}\n`;
  try {
    const out = await engine.evaluate({
      template,
      context: contextFor(template, { output, outputs }),
      fields: ['value'],
    });
    if (out.value === undefined) return { pending: 'the expression has no value' };
    return { value: isRecord(out.value) || Array.isArray(out.value) ? cloneJson(out.value) : out.value };
  } catch (err) {
    if (!(err instanceof CueError) || err.scope === 'engine') throw err;
    if (BARE_WORD.test(expression.trim()) && !['output', 'outputs'].includes(expression.trim()))
      return { value: expression.trim() };
    if (err.scope === 'template')
      throw new TrellisError('TRL_APP_COMPONENT', `valueFrom does not compile: ${describeIssues(err.issues)}`, {
        ...where,
        cause: err,
      });
    return { pending: describeIssues(err.issues) };
  }
}
